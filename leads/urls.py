from django.urls import re_path

from leads.apis import LeadCreateApi, WebhookApi

# With and without a trailing slash, never a redirect.
urlpatterns = [
    re_path(r"^create-lead/?$", LeadCreateApi.as_view(), name="lead-create"),
    re_path(r"^webhook/(?P<workspace_id>[^/]+)/?$", WebhookApi.as_view(), name="lead-webhook"),
]
