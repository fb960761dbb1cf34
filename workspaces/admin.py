from django.contrib import admin

from workspaces.models import ApiKey, Profile, Workspace


@admin.register(Workspace)
class WorkspaceAdmin(admin.ModelAdmin):
    list_display = ["name", "id", "webhook_enabled", "require_api_key", "created_at"]
    search_fields = ["name", "=id"]


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ["clerk_user_id", "name", "email", "workspace", "is_active"]
    list_select_related = ["workspace"]
    search_fields = ["clerk_user_id", "name", "email"]
    autocomplete_fields = ["workspace"]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    # The hash is never shown; keys are issued by the operator command (and, later, the admin).
    list_display = [
        "display_prefix",
        "name",
        "workspace",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    list_select_related = ["workspace"]
    fields = [
        "display_prefix",
        "name",
        "workspace",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
    ]
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:  # noqa: ANN001
        return False
