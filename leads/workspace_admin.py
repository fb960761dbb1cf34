"""The workspace's admin page with its webhook (SPEC §8): the URL in full with a copy
button, a ready HTML form, the last submission received and the recent lead counts.

It lives here, not in `workspaces`, because the webhook and the leads are this app's and
`workspaces` imports no other app: this subclass replaces the workspace admin once
`leads.admin` is loaded. The figures are on the change page only; the workspace list runs
the same queries however many workspaces there are.
"""

from django.contrib import admin
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from leads.pages import snippet_context, webhook_public_url
from leads.selectors import workspace_lead_activity
from workspaces.admin import WorkspaceAdmin
from workspaces.models import Workspace

WEBHOOK_FIELDS = ["webhook", "lead_activity"]


class WorkspaceWithWebhookAdmin(WorkspaceAdmin):
    class Media:
        css = {"all": ["pages/webhook-admin.css"]}
        js = ["pages/copy.js"]

    def get_fieldsets(self, request: HttpRequest, obj: Workspace | None = None) -> list:
        fieldsets = list(super().get_fieldsets(request, obj))
        if obj is None:
            return fieldsets
        return [*fieldsets, ("Webhook", {"fields": WEBHOOK_FIELDS})]

    def get_readonly_fields(self, request: HttpRequest, obj: Workspace | None = None) -> list:
        readonly = list(super().get_readonly_fields(request, obj))
        return [*readonly, *WEBHOOK_FIELDS] if obj is not None else readonly

    @admin.display(description="Webhook URL and HTML form")
    def webhook(self, workspace: Workspace) -> SafeString:
        context = snippet_context(webhook_public_url(workspace))
        html = render_to_string("pages/webhook_snippet.html", context)
        return format_html('<div class="hm-webhook">{}</div>', mark_safe(html))  # noqa: S308

    @admin.display(description="Submissions")
    def lead_activity(self, workspace: Workspace) -> SafeString:
        activity = workspace_lead_activity(workspace=workspace, now=timezone.now())
        last = activity.last_received_at
        last_text = f"{last.strftime('%Y-%m-%d %H:%M:%S')} UTC" if last else "none received yet"
        return format_html(
            '<dl class="hm-activity">'
            "<dt>Last submission received</dt><dd>{}</dd>"
            "<dt>Leads in the last 24 hours</dt><dd>{}</dd>"
            "<dt>Leads in the last 7 days</dt><dd>{}</dd>"
            "</dl>",
            last_text,
            activity.last_24_hours,
            activity.last_7_days,
        )


admin.site.unregister(Workspace)
admin.site.register(Workspace, WorkspaceWithWebhookAdmin)
