"""The webhook's pages for people (SPEC §8): where a browser's form post lands (303), the
thank-you page, the "connected" page and the form snippet the back office shows too.

No lead data goes into any URL or page here: the thank-you page knows the workspace and,
from the Referer, the page to go back to (without its query), nothing a visitor typed.
"""

import math
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.html import escape
from django.views import View
from rest_framework.exceptions import Throttled

from hushmetrics.pages import error_page, http_link, link_host, render_page
from hushmetrics.ratelimit import client_ip, enforce_rate_limit
from hushmetrics.text import strip_nul
from leads.webhook.controls import REDIRECTS, redirect_target
from workspaces.models import Workspace
from workspaces.selectors import workspace_get_cached

FORM_SNIPPET = """<form action="{url}" method="post">
  <label for="name">Name</label>
  <input id="name" name="name" autocomplete="name" required>

  <label for="email">Email</label>
  <input id="email" name="email" type="email" autocomplete="email" required>

  <label for="message">Message</label>
  <textarea id="message" name="message"></textarea>

  <!-- Optional: where to go afterwards (this site, or a host the workspace allows) -->
  <!-- <input type="hidden" name="_next" value="/thanks.html"> -->
  <!-- Spam trap: people never see it, bots fill it in -->
  <input type="text" name="_gotcha" tabindex="-1" autocomplete="off" hidden>

  <button type="submit">Send</button>
</form>"""


def webhook_path(workspace: Workspace) -> str:
    return reverse("lead-webhook", kwargs={"workspace_id": str(workspace.id)})


def webhook_public_url(workspace: Workspace) -> str:
    """The webhook URL a site owner pastes, on PUBLIC_BASE_URL."""
    return settings.PUBLIC_BASE_URL + webhook_path(workspace)


def form_snippet(url: str) -> str:
    """A ready HTML form that posts to `url` (HTML-escaped into its `action`)."""
    return FORM_SNIPPET.format(url=escape(url))


def snippet_context(url: str) -> dict[str, Any]:
    """What `pages/webhook_snippet.html` shows: the URL and the form, each with a copy button."""
    snippet = form_snippet(url)
    return {"webhook_url": url, "form_snippet": snippet, "snippet_rows": snippet.count("\n") + 1}


def thanks_location(workspace: Workspace, referer: str) -> str:
    """The service's own thank-you page, as a relative `Location` (the host the post came
    to), with `?back=` the posting page when the Referer names an http(s) one."""
    path = reverse("lead-webhook-thanks", kwargs={"workspace_id": str(workspace.id)})
    back = http_link(referer)
    return f"{path}?{urlencode({'back': back})}" if back else path


def browser_post_location(
    workspace: Workspace, fields: Mapping[str, Any], headers: Mapping[str, str]
) -> str:
    """Where a browser's stored form post is sent (SPEC §8), the first of: a valid
    `_next`/`_redirect`, the workspace's `thank_you_url`, the service's thank-you page."""
    controls = {
        key.lower(): value
        for key, value in strip_nul(dict(fields)).items()
        if isinstance(key, str) and key.lower() in REDIRECTS
    }
    return (
        redirect_target(controls, headers, allowed_hosts=workspace.redirect_hosts)
        or workspace.thank_you_url
        or thanks_location(workspace, headers.get("Referer", ""))
    )


def connected_page(request: HttpRequest, workspace: Workspace) -> HttpResponse:
    """The page a browser opening the webhook URL sees: connected, to which workspace, and a
    form to copy that posts to this very URL."""
    url = request.build_absolute_uri(webhook_path(workspace))
    context = {"workspace": workspace, **snippet_context(url)}
    return render_page(request, "pages/connected.html", context)


class WebhookThanksPage(View):
    """GET /v1/webhook/{workspace_id}/thanks: the message was sent, to whom, and a way back."""

    http_method_names = ["get", "head"]

    def get(self, request: HttpRequest, workspace_id: str) -> HttpResponse:
        try:
            # As for looking at the webhook URL: per client IP, no submission quota spent.
            enforce_rate_limit(
                request,
                group="webhook-page",
                key=client_ip(request),
                rate=settings.RATE_LIMIT_WEBHOOK,
            )
        except Throttled as throttled:
            response = error_page(request, 429)
            wait = getattr(throttled, "wait", None)  # set by Throttled.__init__, not in stubs
            response["Retry-After"] = str(max(1, math.ceil(wait or 1)))
            return response
        workspace = workspace_get_cached(workspace_id=workspace_id)
        if workspace is None or not workspace.webhook_enabled:
            return error_page(request, 404)
        back = http_link(request.GET.get("back", ""))
        context = {"workspace": workspace, "back": back, "back_host": link_host(back or "")}
        return render_page(request, "pages/thanks.html", context)
