from django.contrib import admin

from leads.models import Lead


@admin.register(Lead)
class LeadAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "email",
        "phone",
        "status",
        "source",
        "value",
        "workspace",
        "created_at",
    ]
    list_select_related = ["workspace"]
    show_full_result_count = False
    raw_id_fields = ["workspace", "created_by", "setter"]
