import uuid
from datetime import datetime

from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from workspaces.hosts import (
    HOSTS_HELP,
    THANK_YOU_URL_HELP,
    split_hosts,
    validate_redirect_hosts,
    validate_thank_you_url,
)
from workspaces.keys import displayed_prefix


class Workspace(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    webhook_enabled = models.BooleanField(default=True)
    require_api_key = models.BooleanField(default=False)
    # Kept by outbound's destination services: the ingest path reads it from the row it
    # already has, so a workspace with no active destination pays no query for events.
    has_active_destinations = models.BooleanField(default=False, editable=False)
    # SPEC §8: where a browser's form post lands, and which other hosts `_next` may name.
    thank_you_url = models.CharField(
        "thank-you URL",
        max_length=2000,
        blank=True,
        default="",
        validators=[validate_thank_you_url],
        help_text=THANK_YOU_URL_HELP,
    )
    # Stored normalised by the services: lower case, comma-separated, no spaces.
    allowed_redirect_hosts = models.CharField(
        "allowed redirect hosts",
        max_length=1000,
        blank=True,
        default="",
        validators=[validate_redirect_hosts],
        help_text=HOSTS_HELP,
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=~Q(name=""), name="workspace_name_not_blank"),
            models.CheckConstraint(
                condition=Q(thank_you_url="")
                | Q(thank_you_url__startswith="http://")
                | Q(thank_you_url__startswith="https://"),
                name="workspace_thank_you_url_http",
            ),
            models.CheckConstraint(
                condition=Q(allowed_redirect_hosts=Lower("allowed_redirect_hosts"))
                & ~Q(allowed_redirect_hosts__contains=" ")
                & ~Q(allowed_redirect_hosts__contains="/")
                & ~Q(allowed_redirect_hosts__contains="@"),
                name="workspace_redirect_hosts_normalised",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def redirect_hosts(self) -> list[str]:
        """`allowed_redirect_hosts` as a list of stored entries (`a.com`, `*.b.com`)."""
        return split_hosts(self.allowed_redirect_hosts)


# Every Clerk user id starts with this (`user_2abc…`).
CLERK_USER_ID_PREFIX = "user_"


class Profile(models.Model):
    """A person in a workspace, known by their Clerk user id (`user_…`)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="profiles")
    clerk_user_id = models.CharField(max_length=64)
    name = models.CharField(max_length=200, blank=True, default="")
    email = models.EmailField(max_length=254, blank=True, default="")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name", "clerk_user_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "clerk_user_id"], name="profile_unique_clerk_id_per_workspace"
            ),
            models.CheckConstraint(
                condition=Q(clerk_user_id__startswith=CLERK_USER_ID_PREFIX),
                name="profile_clerk_user_id_format",
            ),
        ]

    def __str__(self) -> str:
        return self.name or self.clerk_user_id


class ApiKeyScope(models.TextChoices):
    """What a key may do (SPEC §10): send leads in, read them, change and erase them."""

    INGEST = "ingest"
    LEADS_READ = "leads:read"
    LEADS_WRITE = "leads:write"


# The column that holds each scope: one boolean per scope, so every stored combination is
# valid by construction, and "keys that may read" is a plain filter.
SCOPE_COLUMNS = {
    ApiKeyScope.INGEST: "scope_ingest",
    ApiKeyScope.LEADS_READ: "scope_leads_read",
    ApiKeyScope.LEADS_WRITE: "scope_leads_write",
}


class ApiKey(models.Model):
    """A workspace's API key. Only the public prefix and a SHA-256 hash are stored."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    secret_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Scopes, fixed when the key is issued. A key issued before scopes existed has `ingest`
    # only (the defaults, applied to existing rows by migration 0002).
    scope_ingest = models.BooleanField("ingest", default=True, editable=False)
    scope_leads_read = models.BooleanField("leads:read", default=False, editable=False)
    scope_leads_write = models.BooleanField("leads:write", default=False, editable=False)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"
        constraints = [
            models.CheckConstraint(
                condition=Q(scope_ingest=True)
                | Q(scope_leads_read=True)
                | Q(scope_leads_write=True),
                name="apikey_has_a_scope",
            ),
            models.CheckConstraint(
                condition=Q(expires_at__isnull=True) | Q(expires_at__gt=models.F("created_at")),
                name="apikey_expires_after_creation",
            ),
        ]
        indexes = [models.Index(fields=["workspace", "-created_at"], name="apikey_ws_created")]

    def __str__(self) -> str:
        return f"{self.display_prefix}… ({self.name})"

    @property
    def display_prefix(self) -> str:
        return displayed_prefix(self.prefix)

    @property
    def scopes(self) -> list[str]:
        """The key's scopes, in the order ApiKeyScope lists them."""
        return [scope.value for scope, column in SCOPE_COLUMNS.items() if getattr(self, column)]

    def has_scope(self, scope: str) -> bool:
        return bool(getattr(self, SCOPE_COLUMNS[ApiKeyScope(scope)]))

    def state_at(self, when: datetime) -> str:
        """`revoked`, `expired` or `active` at the moment `when`."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= when:
            return "expired"
        return "active"
