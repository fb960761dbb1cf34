import uuid

from django.db import models
from django.db.models import Func, Q, TextField
from django.db.models.functions import Lower

from workspaces.models import Profile, Workspace


class LeadStatus(models.TextChoices):
    CONTACT = "contact"
    QUALIFIED = "qualified"
    PROPOSAL = "proposal"
    NEGOTIATION = "negotiation"
    WON = "won"
    LOST = "lost"


class LeadSource(models.TextChoices):
    WEBSITE = "website"
    REFERRAL = "referral"
    SOCIAL = "social"
    AD = "ad"
    EMAIL = "email"
    COLD_CALL = "cold_call"
    OTHER = "other"


# `utm` and `extra_data` hold at most this many bytes as JSON: room for any real form, and a
# bound on what one request can make every later read of the lead carry.
JSON_COLUMN_MAX_BYTES = 64 * 1024


class LeadSearchText(Func):
    """email, name and phone joined by spaces: on PostgreSQL, `icontains` on it is
    `UPPER((email || ' ' || name || ' ' || phone)::text) LIKE UPPER('%term%')`, the very
    expression of the trigram index lead_search_trgm (migration 0005)."""

    arg_joiner = " || ' ' || "
    template = "(%(expressions)s)"
    output_field = TextField()

    def __init__(self) -> None:
        super().__init__("email", "name", "phone")


class Lead(models.Model):
    Status = LeadStatus
    Source = LeadSource

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # No index of its own: every lead_list_* index starts with workspace_id (see Meta).
    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="leads", db_index=False
    )
    name = models.CharField(max_length=300, blank=True, default="")
    email = models.CharField(max_length=320, blank=True, default="")
    phone = models.CharField(max_length=64, blank=True, default="")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.CONTACT)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.OTHER)
    value = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    # Indexed only where set (Meta.indexes): a lead ingested without them skips both indexes.
    created_by = models.ForeignKey(
        Profile, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    setter = models.ForeignKey(
        Profile, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    utm = models.JSONField(null=True, blank=True)
    extra_data = models.JSONField(null=True, blank=True)
    page_url = models.CharField(max_length=2048, null=True, blank=True)  # noqa: DJ001 - SPEC: null
    is_spam = models.BooleanField(default=False)
    # The webhook's retry key (Idempotency-Key, Framer's header, a builder's own id).
    submission_id = models.CharField(max_length=255, null=True, blank=True, editable=False)  # noqa: DJ001
    # SHA-256 of the body that first came with submission_id (see webhook_lead_ingest).
    submission_fingerprint = models.CharField(  # noqa: DJ001
        max_length=64, null=True, blank=True, editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=LeadStatus.values),
                name="lead_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(source__in=LeadSource.values),
                name="lead_source_valid",
            ),
            models.CheckConstraint(condition=Q(value__gte=0), name="lead_value_non_negative"),
            models.UniqueConstraint(
                fields=["workspace", "submission_id"],
                condition=Q(submission_id__isnull=False),
                name="lead_unique_submission_per_workspace",
            ),
        ]
        # Every index is paid on every insert (BENCHMARKS.md, "Lead table indexes: what each
        # costs per insert"): each one here serves a query that no other index does. Search
        # (admin, GET /v1/leads?q=) is the trigram GIN lead_search_trgm of migration 0005,
        # PostgreSQL only, hence not declared here.
        indexes = [
            # GET /v1/leads, newest (read backwards) or oldest first, the keyset on
            # (created_at, id); also the admin's list of one workspace.
            models.Index(fields=["workspace", "created_at", "id"], name="lead_list_created"),
            # GET /v1/leads?order=updated_at[&updated_after=…]: sync jobs.
            models.Index(fields=["workspace", "updated_at", "id"], name="lead_list_updated"),
            # spam=only, in either order: the few spam rows without a walk past the others.
            models.Index(
                fields=["workspace", "created_at", "id"],
                condition=Q(is_spam=True),
                name="lead_list_spam_created",
            ),
            models.Index(
                fields=["workspace", "updated_at", "id"],
                condition=Q(is_spam=True),
                name="lead_list_spam_updated",
            ),
            # status= and source= filters: a rare (or absent) value costs what a common one does.
            models.Index(
                fields=["workspace", "status", "created_at", "id"], name="lead_list_status_created"
            ),
            models.Index(
                fields=["workspace", "source", "created_at", "id"], name="lead_list_source_created"
            ),
            # The whole list, newest first (admin, unfiltered).
            models.Index(fields=["-created_at"], name="lead_created"),
            # Opt-in matching and GET /v1/leads?email=: same email, any letter case, within a
            # workspace.
            models.Index("workspace", Lower("email"), "created_at", name="lead_ws_email_ci"),
            # A profile's deletion sets its leads' setter / created_by to NULL.
            models.Index(fields=["setter"], condition=Q(setter__isnull=False), name="lead_setter"),
            models.Index(
                fields=["created_by"],
                condition=Q(created_by__isnull=False),
                name="lead_created_by",
            ),
        ]

    def __str__(self) -> str:
        return self.name or self.email or str(self.id)
