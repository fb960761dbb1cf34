"""Back office for opt-ins: read-only, a record of what the partners sent."""

from django.contrib import admin
from django.contrib.admin.utils import flatten_fieldsets
from django.db.models import QuerySet
from django.http import HttpRequest

from hushmetrics.admin import ReadOnlyAdminMixin
from hushmetrics.paginators import EstimatedCountPaginator
from optin.models import OptIn, QuestionAnswer


class QuestionAnswerInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = QuestionAnswer
    extra = 0
    fields = ("position", "question", "answer")
    readonly_fields = fields
    ordering = ["position"]


@admin.register(OptIn)
class OptInAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "email",
        "source",
        "external_reference",
        "lead",
        "workspace",
        "setter",
        "created_at",
    ]
    list_select_related = ["workspace", "lead", "setter"]
    list_filter = ["workspace", "source", "is_new_lead", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["email", "=external_reference", "provider_form_name"]
    search_help_text = "Search by email, exact external reference, or form name."
    ordering = ["-created_at"]
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    list_per_page = 50
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "id",
                    "created_at",
                    "workspace",
                    "lead",
                    "is_new_lead",
                    "source",
                    "external_reference",
                    "provider_form_id",
                    "provider_form_name",
                    "api_key",
                    "setter",
                ]
            },
        ),
        (
            "Person",
            {"fields": ["first_name", "last_name", "email", "phone_e164", "phone_country"]},
        ),
        (
            "Traffic",
            {
                "fields": [
                    "utm_source",
                    "utm_medium",
                    "utm_campaign",
                    "utm_content",
                    "utm_term",
                    "referrer",
                    "landing_page",
                ]
            },
        ),
    ]
    readonly_fields = flatten_fieldsets(fieldsets)
    inlines = [QuestionAnswerInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[OptIn]:
        return (
            super().get_queryset(request).select_related("workspace", "lead", "setter", "api_key")
        )
