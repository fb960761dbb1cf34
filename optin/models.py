import uuid

from django.db import models
from django.db.models import Q

from leads.models import Lead
from workspaces.models import ApiKey, Profile, Workspace


class OptInSource(models.TextChoices):
    CALENDLY = "CALENDLY"
    MANUAL = "MANUAL"
    TYPEFORM = "TYPEFORM"
    WEBINAR = "WEBINAR"
    NEWSLETTER = "NEWSLETTER"
    LANDING_PAGE = "LANDING_PAGE"
    OTHER = "OTHER"


class OptIn(models.Model):
    """One partner submission for a lead, with its traffic attribution."""

    Source = OptInSource

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="opt_ins")
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="opt_ins")
    api_key = models.ForeignKey(
        ApiKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="opt_ins"
    )
    source = models.CharField(max_length=16, choices=Source.choices)
    external_reference = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    provider_form_id = models.CharField(max_length=255, blank=True, default="")
    provider_form_name = models.CharField(max_length=255, blank=True, default="")
    first_name = models.CharField(max_length=150)
    last_name = models.CharField(max_length=150, blank=True, default="")
    email = models.CharField(max_length=254)
    phone_e164 = models.CharField(max_length=16, blank=True, default="")
    phone_country = models.CharField(max_length=2, blank=True, default="")
    utm_source = models.CharField(max_length=255, blank=True, default="")
    utm_medium = models.CharField(max_length=255, blank=True, default="")
    utm_campaign = models.CharField(max_length=255, blank=True, default="")
    utm_content = models.CharField(max_length=255, blank=True, default="")
    utm_term = models.CharField(max_length=255, blank=True, default="")
    referrer = models.CharField(max_length=2048, blank=True, default="")
    landing_page = models.CharField(max_length=2048, blank=True, default="")
    setter = models.ForeignKey(
        Profile, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    is_new_lead = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "opt-in"
        constraints = [
            models.CheckConstraint(
                condition=Q(source__in=OptInSource.values),
                name="optin_source_valid",
            ),
            models.UniqueConstraint(
                fields=["workspace", "source", "external_reference"],
                condition=Q(external_reference__isnull=False),
                name="optin_unique_external_reference",
            ),
        ]
        indexes = [
            models.Index(fields=["workspace", "-created_at"], name="optin_ws_created"),
            # A lead's opt-in history, newest first (admin inline).
            models.Index(fields=["lead", "-created_at"], name="optin_lead_created"),
        ]

    def __str__(self) -> str:
        return f"{self.email} via {self.source}"


class QuestionAnswer(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    opt_in = models.ForeignKey(OptIn, on_delete=models.CASCADE, related_name="answers")
    question = models.CharField(max_length=1000)
    answer = models.TextField(max_length=10000, blank=True, default="")
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["opt_in", "position"]
        verbose_name = "question and answer"
        indexes = [models.Index(fields=["opt_in", "position"], name="qa_optin_position")]

    def __str__(self) -> str:
        return f"{self.position}. {self.question}"
