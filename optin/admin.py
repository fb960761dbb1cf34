from django.contrib import admin

from optin.models import OptIn, QuestionAnswer


@admin.register(OptIn)
class OptInAdmin(admin.ModelAdmin):
    list_display = ["email", "source", "external_reference", "lead", "workspace", "created_at"]
    list_select_related = ["workspace", "lead"]
    raw_id_fields = ["workspace", "lead", "api_key", "setter"]
    show_full_result_count = False


@admin.register(QuestionAnswer)
class QuestionAnswerAdmin(admin.ModelAdmin):
    list_display = ["opt_in", "position", "question", "answer"]
    raw_id_fields = ["opt_in"]
