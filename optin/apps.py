from django.apps import AppConfig


class OptinConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "optin"

    def ready(self) -> None:
        from leads.extensions import lead_detail_part_register
        from optin.lead_detail import lead_opt_ins

        # GET /v1/leads/{id} answers with the lead's opt-ins (SPEC §10).
        lead_detail_part_register(name="opt_ins", reader=lead_opt_ins)
