from django.apps import AppConfig


class WorkspacesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "workspaces"

    def ready(self) -> None:
        # Registers the API-key scheme with drf-spectacular.
        from workspaces import schema  # noqa: F401
