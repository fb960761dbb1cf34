"""Back office for workspaces, profiles and API keys.

Keys are issued and revoked only through `workspaces.services`; the plaintext of a new key is
rendered once, in the response to the form that issued it (never a message, which would sit
in the session), and the hash is in no form, list or page.
"""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from hushmetrics.admin import ReadOnlyAdminMixin, ServiceModelAdmin
from workspaces.hosts import normalise_redirect_hosts, normalise_thank_you_url
from workspaces.keys import KEY_PREFIX, displayed_prefix, public_part
from workspaces.models import ApiKey, ApiKeyScope, Profile, Workspace
from workspaces.services import (
    api_key_issue,
    api_key_revoke,
    api_key_update,
    profile_create,
    profile_update,
    workspace_create,
    workspace_update,
)


class ShownOnce(str):
    """The issued key, for the one page that shows it; its repr names only the prefix.

    Templates render it as the key, but a dump of the template context — django.template logs
    the whole context at DEBUG when a variable is missing — never holds the secret.
    """

    def __repr__(self) -> str:
        return f"'{displayed_prefix(public_part(self))}…'"


@admin.display(description="prefix")
def display_prefix(api_key: ApiKey) -> str:
    return f"{api_key.display_prefix}…"


@admin.display(description="state")
def key_state(api_key: ApiKey) -> str:
    return api_key.state_at(timezone.now())


@admin.display(description="scopes")
def key_scopes(api_key: ApiKey) -> str:
    return ", ".join(api_key.scopes)


class ApiKeyInline(ReadOnlyAdminMixin, admin.TabularInline):
    """A workspace's keys, read-only; each links to its page (where it can be revoked)."""

    model = ApiKey
    extra = 0
    show_change_link = True
    fields = (
        "prefix_shown",
        "name",
        "state",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
    )
    readonly_fields = fields
    ordering = ["-created_at"]

    @admin.display(description="prefix")
    def prefix_shown(self, api_key: ApiKey) -> str:
        return display_prefix(api_key)

    @admin.display(description="state")
    def state(self, api_key: ApiKey) -> str:
        return key_state(api_key)


class ProfileInline(ReadOnlyAdminMixin, admin.TabularInline):
    """A workspace's profiles, read-only; each links to its page."""

    model = Profile
    extra = 0
    show_change_link = True
    fields = ("clerk_user_id", "name", "email", "is_active")
    readonly_fields = fields


WORKSPACE_FIELDS = (
    "name",
    "webhook_enabled",
    "require_api_key",
    "thank_you_url",
    "allowed_redirect_hosts",
)


class WorkspaceForm(forms.ModelForm):
    """The redirect settings as the services store them (the database checks that form)."""

    class Meta:
        model = Workspace
        fields = WORKSPACE_FIELDS
        widgets = {
            "thank_you_url": forms.URLInput(attrs={"class": "vURLField"}),
            "allowed_redirect_hosts": forms.TextInput(attrs={"class": "vURLField"}),
        }

    def clean_thank_you_url(self) -> str:
        return normalise_thank_you_url(self.cleaned_data["thank_you_url"])

    def clean_allowed_redirect_hosts(self) -> str:
        return normalise_redirect_hosts(self.cleaned_data["allowed_redirect_hosts"])


@admin.register(Workspace)
class WorkspaceAdmin(ServiceModelAdmin):
    form = WorkspaceForm
    list_display = ["name", "id", "webhook_enabled", "require_api_key", "created_at"]
    list_filter = ["webhook_enabled", "require_api_key"]
    search_fields = ["name", "=id"]
    fields = WORKSPACE_FIELDS
    inlines = [ProfileInline, ApiKeyInline]

    def get_fields(self, request: HttpRequest, obj: Workspace | None = None) -> tuple[str, ...]:
        return ("id", *self.fields, "created_at") if obj is not None else self.fields

    def get_readonly_fields(self, request: HttpRequest, obj: Workspace | None = None) -> list:
        return ["id", "created_at"] if obj is not None else []

    def create(self, request: HttpRequest, values: dict[str, Any]) -> Workspace:
        return workspace_create(**values)

    def update(self, request: HttpRequest, stored: Workspace, changes: dict[str, Any]) -> Workspace:
        return workspace_update(workspace=stored, **changes)


@admin.register(Profile)
class ProfileAdmin(ServiceModelAdmin):
    list_display = ["clerk_user_id", "name", "email", "workspace", "is_active"]
    list_select_related = ["workspace"]
    list_filter = ["is_active", "workspace"]
    search_fields = ["clerk_user_id", "name", "email"]
    autocomplete_fields = ["workspace"]
    fields = ["workspace", "clerk_user_id", "name", "email", "is_active"]

    def get_readonly_fields(self, request: HttpRequest, obj: Profile | None = None) -> list:
        # A profile stays in its workspace; leads and opt-ins point at it.
        return ["workspace"] if obj is not None else []

    def create(self, request: HttpRequest, values: dict[str, Any]) -> Profile:
        return profile_create(**values)

    def update(self, request: HttpRequest, stored: Profile, changes: dict[str, Any]) -> Profile:
        return profile_update(profile=stored, **changes)


class KeyStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple]:
        return [("active", "Active"), ("expired", "Expired"), ("revoked", "Revoked")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> QuerySet[ApiKey]:
        now = timezone.now()
        expired = Q(expires_at__isnull=False, expires_at__lte=now)
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        if self.value() == "expired":
            return queryset.filter(expired, revoked_at__isnull=True)
        if self.value() == "active":
            return queryset.filter(revoked_at__isnull=True).exclude(expired)
        return queryset


class ApiKeyIssueForm(forms.ModelForm):
    """The add form: which workspace, a name, and an optional lifetime. The service issues."""

    expires_in_days = forms.IntegerField(
        required=False, min_value=1, help_text="Leave empty for a key that does not expire."
    )
    scopes = forms.MultipleChoiceField(
        choices=ApiKeyScope.choices,
        initial=[ApiKeyScope.INGEST.value],
        widget=forms.CheckboxSelectMultiple,
        help_text=(
            "ingest: create leads, the webhook, opt-ins. leads:read: list and read leads. "
            "leads:write: change and erase leads. Fixed once the key is issued."
        ),
    )

    class Meta:
        model = ApiKey
        fields = ["workspace", "name"]


@admin.register(ApiKey)
class ApiKeyAdmin(ServiceModelAdmin):
    add_form = ApiKeyIssueForm
    list_display = [
        display_prefix,
        "name",
        "workspace",
        key_scopes,
        "created_at",
        "last_used_at",
        "expires_at",
        key_state,
    ]
    list_select_related = ["workspace"]
    list_filter = [KeyStateFilter, "workspace"]
    search_fields = ["prefix", "name", "workspace__name"]
    search_help_text = (
        f"Search by prefix (with or without {KEY_PREFIX}), key name or workspace name."
    )
    autocomplete_fields = ["workspace"]
    actions = ["revoke_selected"]

    class Media:
        # Cuts a whole key pasted into the search to its prefix before it reaches a URL.
        js = ["workspaces/apikey_search.js"]

    # Everything but the name is fixed when a key is issued; the hash is not even listed here.
    change_fields = (
        "prefix_shown",
        "name",
        "workspace",
        "scopes_shown",
        "state",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
    )

    @admin.display(description="prefix")
    def prefix_shown(self, api_key: ApiKey) -> str:
        return display_prefix(api_key)

    @admin.display(description="state")
    def state(self, api_key: ApiKey) -> str:
        return key_state(api_key)

    @admin.display(description="scopes")
    def scopes_shown(self, api_key: ApiKey) -> str:
        return key_scopes(api_key)

    def get_fields(self, request: HttpRequest, obj: ApiKey | None = None) -> tuple[str, ...]:
        if obj is not None:
            return self.change_fields
        return ("workspace", "name", "scopes", "expires_in_days")

    def get_readonly_fields(self, request: HttpRequest, obj: ApiKey | None = None) -> list:
        return [f for f in self.change_fields if f != "name"] if obj is not None else []

    def get_form(
        self, request: HttpRequest, obj: ApiKey | None = None, change: bool = False, **kwargs: Any
    ) -> type[forms.ModelForm]:
        if obj is None:
            kwargs["form"] = self.add_form
            kwargs["fields"] = ["workspace", "name"]
        return super().get_form(request, obj, change, **kwargs)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[ApiKey], search_term: str
    ) -> tuple[QuerySet[ApiKey], bool]:
        # Staff paste what they see: `sk_live_AbCd1234…` finds the key by its prefix.
        return super().get_search_results(request, queryset, public_part(search_term))

    def has_delete_permission(self, request: HttpRequest, obj: ApiKey | None = None) -> bool:
        # A key is revoked, never deleted: its opt-ins keep pointing at it.
        return False

    def create(self, request: HttpRequest, values: dict[str, Any]) -> ApiKey:
        issued = api_key_issue(
            workspace=values["workspace"],
            name=values["name"],
            expires_in_days=values.get("expires_in_days"),
            scopes=values["scopes"],
        )
        # Only for this response: the plaintext lives in no model, session, message or log.
        request._issued_plaintext = issued.plaintext  # type: ignore[attr-defined]  # for response_add, on this request only
        return issued.api_key

    def update(self, request: HttpRequest, stored: ApiKey, changes: dict[str, Any]) -> ApiKey:
        return api_key_update(api_key=stored, **changes)

    def response_add(
        self, request: HttpRequest, obj: ApiKey, post_url_continue: str | None = None
    ) -> HttpResponse:
        plaintext = getattr(request, "_issued_plaintext", None)
        if plaintext is None:
            return super().response_add(request, obj, post_url_continue)
        response = TemplateResponse(
            request,
            "admin/workspaces/apikey/issued.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "api_key": obj,
                "plaintext": ShownOnce(plaintext),
                "title": "API key issued",
            },
        )
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(
        description="Revoke selected keys (cannot be undone)",
        permissions=["change"],
    )
    def revoke_selected(
        self, request: HttpRequest, queryset: QuerySet[ApiKey]
    ) -> HttpResponse | None:
        """Asks once, then revokes each key through the service."""
        if request.POST.get("post") != "yes":
            return TemplateResponse(
                request,
                "admin/workspaces/apikey/revoke_confirmation.html",
                {
                    **self.admin_site.each_context(request),
                    "opts": self.opts,
                    "queryset": queryset.select_related("workspace"),
                    "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                    "title": "Revoke API keys",
                },
            )
        revoked = 0
        for api_key in queryset:
            if api_key.revoked_at is None:
                api_key_revoke(api_key=api_key)
                revoked += 1
        self.message_user(
            request,
            f"Revoked {revoked} API key{'s' if revoked != 1 else ''}. "
            "They are refused from now on; this cannot be undone.",
            messages.SUCCESS,
        )
        return None
