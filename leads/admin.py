"""Back office for leads: a fast list at millions of rows, edits through the lead service.

Search uses the pg_trgm GIN index of migration 0005 on PostgreSQL, one index over email, name
and phone joined (see `leads.selectors.lead_search`), so a part of an email, a name or a
phone number finds its leads without a table scan.
"""

import csv
import re
from collections.abc import Iterable, Iterator
from datetime import UTC
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import ValidationError
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest, StreamingHttpResponse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.text import smart_split, unescape_string_literal

from hushmetrics.admin import ReadOnlyAdminMixin, ServiceModelAdmin
from hushmetrics.paginators import EstimatedCountPaginator
from hushmetrics.timestamps import csv_timestamp
from leads import workspace_admin  # noqa: F401  (the workspace page, with its webhook)
from leads.models import Lead
from leads.selectors import lead_search
from leads.services import lead_create, lead_edit
from optin.models import OptIn, QuestionAnswer
from workspaces.models import Profile

if TYPE_CHECKING:
    # The stubs' shape of a filter choice (no such class at run time).
    from django.contrib.admin.filters import _ListFilterChoices

# Fields staff edit on an existing lead; each save goes through `lead_edit` (lead.updated).
STAFF_EDITABLE = [
    "name",
    "email",
    "phone",
    "status",
    "source",
    "value",
    "setter",
    "created_by",
    "is_spam",
]
CSV_CHUNK_SIZE = 2_000


class SpamFilter(admin.SimpleListFilter):
    """Spam is hidden unless asked for: no parameter means "not spam"."""

    title = "spam"
    parameter_name = "spam"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple]:
        return [("no", "Not spam"), ("yes", "Spam only"), ("all", "All")]

    def _effective(self) -> str:
        value = self.value()
        return value if value in {"no", "yes", "all"} else "no"

    def choices(self, changelist: ChangeList) -> "Iterator[_ListFilterChoices]":
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self._effective() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request: HttpRequest, queryset: QuerySet[Lead]) -> QuerySet[Lead]:
        value = self._effective()
        if value == "all":
            return queryset
        return queryset.filter(is_spam=value == "yes")


class LeadAdminForm(forms.ModelForm):
    """Setter and creator must be profiles of the lead's own workspace."""

    class Meta:
        model = Lead
        fields = ["workspace", *STAFF_EDITABLE]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.instance._state.adding:  # (a new lead already has its uuid pk)
            profiles = Profile.objects.filter(workspace_id=self.instance.workspace_id)
            for name in ("setter", "created_by"):
                field = self.fields.get(name)
                if isinstance(field, forms.ModelChoiceField):
                    field.queryset = profiles

    def clean_value(self) -> Any:
        value = self.cleaned_data.get("value")
        if value is not None and value < 0:
            raise ValidationError("A lead's value cannot be negative.")
        return value

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        workspace_id = self.instance.workspace_id or getattr(cleaned.get("workspace"), "pk", None)
        for name in ("setter", "created_by"):
            profile = cleaned.get(name)
            if profile is not None and workspace_id and profile.workspace_id != workspace_id:
                self.add_error(name, ValidationError("Pick a profile of the lead's workspace."))
        return cleaned


class OptInHistoryInline(ReadOnlyAdminMixin, admin.StackedInline):
    """The lead's opt-ins, newest first, each with its traffic and its Q&A; read-only."""

    model = OptIn
    fk_name = "lead"
    extra = 0
    show_change_link = True
    verbose_name = "opt-in"
    verbose_name_plural = "opt-in history (newest first)"
    ordering = ["-created_at"]
    fields = (
        "created_at",
        "source",
        "email",
        "full_name",
        "phone_e164",
        "external_reference",
        "provider_form",
        "setter",
        "traffic",
        "questions_and_answers",
    )
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[OptIn]:
        # One query for the opt-ins (with their setter), one for all their answers: no N+1.
        return (
            super()
            .get_queryset(request)
            .select_related("setter")
            .prefetch_related(
                Prefetch("answers", queryset=QuestionAnswer.objects.order_by("position"))
            )
        )

    @admin.display(description="name")
    def full_name(self, opt_in: OptIn) -> str:
        return f"{opt_in.first_name} {opt_in.last_name}".strip()

    @admin.display(description="form")
    def provider_form(self, opt_in: OptIn) -> str:
        parts = [p for p in (opt_in.provider_form_name, opt_in.provider_form_id) if p]
        return " · ".join(parts) or "—"

    @admin.display(description="traffic")
    def traffic(self, opt_in: OptIn) -> str:
        return traffic_html(opt_in)

    @admin.display(description="questions and answers")
    def questions_and_answers(self, opt_in: OptIn) -> str:
        return answers_html(opt_in.answers.all())


def traffic_html(opt_in: OptIn) -> str:
    """The opt-in's non-empty traffic fields as a small table."""
    names = ["utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term"]
    names += ["referrer", "landing_page"]
    rows = [(name, getattr(opt_in, name)) for name in names if getattr(opt_in, name)]
    if not rows:
        return "—"
    return format_html(
        '<table class="hm-traffic">{}</table>',
        format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", rows),
    )


def answers_html(answers: Iterable[QuestionAnswer]) -> str:
    """Q&A in position order, as an ordered list (answers are already ordered by position)."""
    items = [(answer.question, answer.answer) for answer in answers]
    if not items:
        return "—"
    return format_html(
        '<ol class="hm-qa">{}</ol>',
        format_html_join("", "<li><strong>{}</strong><br>{}</li>", items),
    )


_SAFE_SIGNED = re.compile(r"[+-][\d\s().\-]*")


def csv_cell(value: Any) -> Any:
    """Neutralise spreadsheet formulas from public form input, keeping phone numbers intact."""
    if not isinstance(value, str) or not value:
        return value
    if value[0] in "=@\t\r" or (value[0] in "+-" and not _SAFE_SIGNED.fullmatch(value)):
        return "'" + value
    return value


class _Echo:
    """A file-like object whose write returns the line, for csv.writer in a generator."""

    def write(self, value: str) -> str:
        return value


CSV_COLUMNS = [
    ("id", "id"),
    ("workspace_id", "workspace_id"),
    ("workspace__name", "workspace"),
    ("name", "name"),
    ("email", "email"),
    ("phone", "phone"),
    ("status", "status"),
    ("source", "source"),
    ("value", "value"),
    ("setter__clerk_user_id", "setter"),
    ("created_by__clerk_user_id", "created_by"),
    ("is_spam", "is_spam"),
    ("page_url", "page_url"),
    ("created_at", "created_at (UTC)"),
    ("updated_at", "updated_at (UTC)"),
]


def lead_csv_rows(queryset: QuerySet[Lead]) -> Iterator[str]:
    """The CSV lines of `queryset`, read in chunks from a cursor: memory stays constant."""
    writer = csv.writer(_Echo())
    yield writer.writerow([header for _field, header in CSV_COLUMNS])
    rows = queryset.values_list(*[field for field, _header in CSV_COLUMNS])
    for row in rows.iterator(chunk_size=CSV_CHUNK_SIZE):
        *head, created_at, updated_at = row
        yield writer.writerow(
            [csv_cell(cell) for cell in head]
            + [csv_timestamp(created_at), csv_timestamp(updated_at)]
        )


@admin.register(Lead)
class LeadAdmin(ServiceModelAdmin):
    form = LeadAdminForm
    list_display = [
        "name",
        "email",
        "phone",
        "status",
        "source",
        "value",
        "workspace",
        "setter",
        "created_at",
    ]
    list_display_links = ["name", "email"]
    list_select_related = ["workspace", "setter"]
    list_filter = [
        "workspace",
        "status",
        "source",
        SpamFilter,
        ("created_at", admin.DateFieldListFilter),
    ]
    # icontains on all three, as `get_search_results` (the index's form of it) searches them.
    search_fields = ["email", "name", "phone"]
    search_help_text = "Search by email, name or phone (any part of it)."
    ordering = ["-created_at"]
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    # Facet counts are an aggregate over the whole filtered table: not at a million rows.
    show_facets = admin.ShowFacets.NEVER
    list_per_page = 50
    autocomplete_fields = ["workspace"]
    readonly_fields = [
        "id",
        "page_url",
        "utm",
        "extra_data",
        "submission_id",
        "created_at",
        "updated_at",
    ]
    inlines = [OptInHistoryInline]
    actions = ["export_csv"]

    def get_fieldsets(self, request: HttpRequest, obj: Lead | None = None) -> list:
        lead = ["workspace", "name", "email", "phone", "status", "source", "value"]
        people = ["setter", "created_by", "is_spam"]
        if obj is None:
            return [(None, {"fields": lead + people})]
        return [
            (None, {"fields": ["id", *lead]}),
            ("People and spam", {"fields": people}),
            (
                "Attribution",
                {"fields": ["page_url", "utm", "extra_data", "submission_id"]},
            ),
            ("Timestamps (UTC)", {"fields": ["created_at", "updated_at"]}),
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: Lead | None = None) -> list[str]:
        # A lead never moves to another workspace; it is chosen once, when added.
        return [*self.readonly_fields, "workspace"] if obj is not None else []

    def get_queryset(self, request: HttpRequest) -> QuerySet[Lead]:
        return super().get_queryset(request).select_related("workspace", "setter", "created_by")

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Lead], search_term: str
    ) -> tuple[QuerySet[Lead], bool]:
        # Django's own search (each term, quoted phrases kept, in one of search_fields) with
        # each term put as `lead_search` puts it, the form the trigram index serves.
        for bit in smart_split(search_term):
            if bit.startswith(('"', "'")) and bit[0] == bit[-1]:
                bit = unescape_string_literal(bit)
            queryset = lead_search(queryset, term=bit)
        return queryset, False

    def get_actions(self, request: HttpRequest) -> dict:
        # "Delete selected" across a million-row selection would build a confirmation page of
        # every row; leads are deleted one at a time from their page.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def create(self, request: HttpRequest, values: dict[str, Any]) -> Lead:
        return lead_create(**values)

    def update(self, request: HttpRequest, stored: Lead, changes: dict[str, Any]) -> Lead:
        # The workspace is read-only on a lead's page: every field the form has is editable.
        return lead_edit(lead=stored, data=changes)

    @admin.action(
        description="Export the selected leads as CSV (UTC timestamps)", permissions=["view"]
    )
    def export_csv(self, request: HttpRequest, queryset: QuerySet[Lead]) -> StreamingHttpResponse:
        """Streams the selection; with "select all" it is the whole filtered list."""
        stamp = timezone.now().astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
        response = StreamingHttpResponse(
            lead_csv_rows(queryset.order_by("-created_at", "-pk")),
            content_type="text/csv; charset=utf-8",
        )
        response["Content-Disposition"] = f'attachment; filename="leads-{stamp}.csv"'
        return response
