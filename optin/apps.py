from django.apps import AppConfig


class OptinConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "optin"
