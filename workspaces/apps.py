from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class WorkspacesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "workspaces"

    def ready(self) -> None:
        # Registers the API-key scheme with drf-spectacular.
        from workspaces import schema  # noqa: F401
        from workspaces.models import Workspace
        from workspaces.selectors import workspace_cache_on_change

        # Edits through the ORM in this process (admin, services) drop the cached row.
        post_save.connect(workspace_cache_on_change, sender=Workspace)
        post_delete.connect(workspace_cache_on_change, sender=Workspace)
