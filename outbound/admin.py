"""Back office for outbound events: destinations and their deliveries (SPEC §9).

Every change goes through `outbound.services`. A signing secret is in no list, form or page
unless staff ask for it (the reveal and rotate actions), and that is recorded in the
object's history. The delivery list is built for a million rows: indexed filters, one query
per page (select_related), an estimated count.
"""

import json
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from hushmetrics.paginators import EstimatedCountPaginator
from outbound.models import Delivery, DeliveryAttempt, Destination, DestinationKind
from outbound.selectors import destinations_with_health
from outbound.services import (
    SUBSCRIBABLE_EVENTS,
    delivery_redeliver,
    destination_create,
    destination_disable,
    destination_enable,
    destination_rotate_secret,
    destination_send_test_event,
    destination_update,
    destination_validate,
)

if TYPE_CHECKING:
    from django.contrib.admin.options import _FieldGroups


def _on_changelist(request: HttpRequest) -> bool:
    match = request.resolver_match
    return match is not None and (match.url_name or "").endswith("changelist")


# What `target` holds, per kind: the label and help the form shows once the kind is known.
TARGET_FIELD = {
    DestinationKind.WEBHOOK: ("Webhook URL", "The receiver's https:// URL."),
    DestinationKind.EMAIL: ("Email address", "One address; each event is one message to it."),
    DestinationKind.SLACK: (
        "Slack incoming-webhook URL",
        "From Slack: Apps → Incoming Webhooks → Add to a channel "
        "(https://hooks.slack.com/services/…). Anyone with it can post to that channel.",
    ),
}
TARGET_HELP = (
    "Webhook: the receiver's https:// URL. Email: one address. "
    "Slack: the channel's incoming-webhook URL (https://hooks.slack.com/services/…)."
)


class DestinationForm(forms.ModelForm):
    event_types = forms.MultipleChoiceField(
        choices=[(value, value) for value in SUBSCRIBABLE_EVENTS],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="None ticked: every event.",
    )

    class Meta:
        model = Destination
        fields = ["workspace", "kind", "target", "description", "event_types", "include_spam"]
        labels = {"target": "Target (URL or email address)"}
        help_texts = {"target": TARGET_HELP}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        kind = self.instance.kind if self.instance.pk else None
        if kind in TARGET_FIELD and "target" in self.fields:
            self.fields["target"].label, self.fields["target"].help_text = TARGET_FIELD[kind]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        kind = cleaned.get("kind") or (self.instance.kind if self.instance.pk else None)
        if kind and "target" in cleaned:
            try:
                target, event_types, description = destination_validate(
                    kind=kind,
                    target=cleaned["target"],
                    event_types=cleaned.get("event_types") or [],
                    description=cleaned.get("description") or "",
                )
            except ValidationError as error:
                for field, errors in error.message_dict.items():
                    self.add_error(field if field in self.fields else None, errors)
            else:
                cleaned.update(target=target, event_types=event_types, description=description)
        return cleaned


@admin.register(Destination)
class DestinationAdmin(admin.ModelAdmin):
    form = DestinationForm
    list_display = [
        "__str__",
        "workspace",
        "kind",
        "state",
        "last_success_at",
        "last_failure_at",
        "success_rate_24h",
        "created_at",
    ]
    list_filter = ["kind", "is_active"]
    search_fields = ["target", "description", "=id", "workspace__name"]
    list_select_related = ["workspace"]
    autocomplete_fields = ["workspace"]
    show_full_result_count = False
    ordering = ["-created_at"]
    actions = [
        "send_test_event",
        "enable",
        "disable",
        "rotate_secret",
        "reveal_secret",
    ]
    readonly_fields = [
        "id",
        "state",
        "disabled_reason",
        "secret",
        "last_success_at",
        "last_failure_at",
        "failing_since",
        "created_at",
        "deliveries_link",
    ]

    def get_fields(self, request: HttpRequest, obj: Destination | None = None) -> "_FieldGroups":
        editable = ["target", "description", "event_types", "include_spam"]
        if obj is None:
            return ["workspace", "kind", *editable]
        return ["id", "workspace", "kind", *editable, *self.readonly_fields[1:]]

    def get_readonly_fields(self, request: HttpRequest, obj: Destination | None = None) -> list:
        if obj is None:
            return []
        return ["workspace", "kind", *self.readonly_fields]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Destination]:
        queryset = super().get_queryset(request)
        if _on_changelist(request):
            return destinations_with_health(queryset)
        return queryset

    def save_model(
        self, request: HttpRequest, obj: Destination, form: forms.ModelForm, change: bool
    ) -> None:
        data = form.cleaned_data
        if change:
            destination_update(
                destination=obj,
                target=data["target"],
                event_types=data["event_types"],
                include_spam=data["include_spam"],
                description=data["description"],
            )
            return
        created = destination_create(
            workspace=data["workspace"],
            kind=data["kind"],
            target=data["target"],
            event_types=data["event_types"],
            include_spam=data["include_spam"],
            description=data["description"],
        )
        obj.__dict__.update(created.__dict__)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Disabling keeps the delivery log; deleting would erase it (and skip the flag).
        return False

    @admin.display(description="state")
    def state(self, destination: Destination) -> str:
        return destination.state

    @admin.display(description="success 24 h")
    def success_rate_24h(self, destination: Destination) -> str:
        finished = getattr(destination, "finished_24h", 0)
        if not finished:
            return "–"
        rate = 100 * destination.succeeded_24h / finished  # type: ignore[attr-defined]  # the change list annotates it (destinations_with_health)
        return f"{rate:.0f} % of {finished}"

    @admin.display(description="signing secret")
    def secret(self, destination: Destination) -> str:
        if destination.kind != DestinationKind.WEBHOOK:
            return "–"
        return "Hidden. Use the “Reveal signing secret” action on the list to see it."

    @admin.display(description="deliveries")
    def deliveries_link(self, destination: Destination) -> str:
        url = reverse("admin:outbound_delivery_changelist")
        return format_html(
            '<a href="{}?destination__id__exact={}">Deliveries</a>', url, destination.pk
        )

    @admin.action(description="Send a test event", permissions=["change"])
    def send_test_event(self, request: HttpRequest, queryset: QuerySet[Destination]) -> None:
        for destination in queryset:
            destination_send_test_event(destination=destination)
        self.message_user(request, f"Queued a test event to {queryset.count()} destination(s).")

    @admin.action(description="Enable", permissions=["change"])
    def enable(self, request: HttpRequest, queryset: QuerySet[Destination]) -> None:
        for destination in queryset:
            destination_enable(destination=destination)
            self.log_change(request, destination, "Enabled.")
        self.message_user(request, f"Enabled {queryset.count()} destination(s).")

    @admin.action(description="Disable", permissions=["change"])
    def disable(self, request: HttpRequest, queryset: QuerySet[Destination]) -> None:
        for destination in queryset:
            destination_disable(
                destination=destination, reason=f"Disabled by {request.user}.", alert=False
            )
            self.log_change(request, destination, "Disabled.")
        self.message_user(request, f"Disabled {queryset.count()} destination(s).")

    @admin.action(description="Rotate signing secret", permissions=["change"])
    def rotate_secret(
        self, request: HttpRequest, queryset: QuerySet[Destination]
    ) -> HttpResponse | None:
        rows = []
        for destination in queryset.filter(kind=DestinationKind.WEBHOOK):
            rows.append(_Secret(destination, destination_rotate_secret(destination=destination)))
            self.log_change(request, destination, "Rotated the signing secret.")
        return self._secrets_page(
            request,
            rows,
            title="New signing secrets",
            note="The old secret also signs deliveries for 24 hours, so receivers can switch.",
        )

    @admin.action(description="Reveal signing secret", permissions=["change"])
    def reveal_secret(
        self, request: HttpRequest, queryset: QuerySet[Destination]
    ) -> HttpResponse | None:
        rows = []
        for destination in queryset.filter(kind=DestinationKind.WEBHOOK):
            rows.append(_Secret(destination, destination.signing_secret))
            self.log_change(request, destination, "Revealed the signing secret.")
        return self._secrets_page(
            request, rows, title="Signing secrets", note="Shown because you asked."
        )

    def _secrets_page(
        self, request: HttpRequest, rows: list["_Secret"], *, title: str, note: str
    ) -> HttpResponse | None:
        if not rows:
            self.message_user(request, "Only webhook destinations have a secret.", messages.WARNING)
            return None  # an action answering None goes back to the change list
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": title,
            "note": note,
            "rows": rows,
        }
        response = TemplateResponse(request, "admin/outbound/destination/secrets.html", context)
        response["Cache-Control"] = "no-store"
        return response


@dataclass(frozen=True)
class _Secret:
    destination: Destination
    secret: str


ATTEMPT_FIELDS = ("started_at", "duration_ms", "status_code", "error", "response_excerpt")


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    fields = ATTEMPT_FIELDS
    readonly_fields = ATTEMPT_FIELDS
    ordering = ["started_at"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


DELIVERY_FIELDS = (
    "id",
    "event_link",
    "event_type",
    "destination",
    "state",
    "attempts",
    "next_attempt_at",
    "last_status_code",
    "last_error",
    "created_at",
    "finished_at",
    "payload",
)


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "event_type",
        "destination",
        "state",
        "attempts",
        "last_status_code",
        "last_error",
        "next_attempt_at",
        "finished_at",
    ]
    list_filter = ["state", "event_type", "destination", "created_at"]
    search_fields = ["=id"]  # see get_search_results: delivery or event id
    list_select_related = ["destination"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    list_per_page = 50  # as the lead list: the page is the rendering of its rows (BENCHMARKS.md)
    ordering = ["-created_at"]
    inlines = [DeliveryAttemptInline]
    actions = ["redeliver"]
    fields = DELIVERY_FIELDS
    readonly_fields = DELIVERY_FIELDS

    def get_queryset(self, request: HttpRequest) -> QuerySet[Delivery]:
        queryset = super().get_queryset(request)
        if not _on_changelist(request):  # a delivery's page: its event and destination
            return queryset.select_related("event", "destination")
        return queryset

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Delivery], search_term: str
    ) -> tuple[QuerySet[Delivery], bool]:
        """A delivery id or an event id (the `webhook-id` a receiver reports), each by its
        own index; anything else matches nothing, without a scan."""
        term = search_term.strip()
        if not term:
            return queryset, False
        try:
            value = uuid.UUID(term)
        except ValueError:
            return queryset.none(), False
        return queryset.filter(Q(pk=value) | Q(event_id=value)), False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Read-only pages; the redeliver action needs only the view permission's page plus
        # this model's change permission, checked on the action itself.
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="event")
    def event_link(self, delivery: Delivery) -> str:
        return f"{delivery.event.type} {delivery.event_id} (webhook-id)"

    @admin.display(description="payload")
    def payload(self, delivery: Delivery) -> str:
        return format_html(
            "<pre style='white-space: pre-wrap'>{}</pre>",
            json.dumps(delivery.event.payload, indent=2, ensure_ascii=False),
        )

    @admin.action(description="Redeliver (same event, same webhook-id)", permissions=["change"])
    def redeliver(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        count = 0
        for delivery in queryset.select_related(None):
            delivery_redeliver(delivery=delivery)
            count += 1
        self.message_user(request, f"Queued {count} redelivery(ies).")
