from django.urls import re_path

from leads.apis import LeadCreateApi, WebhookApi
from leads.pages import WebhookThanksPage
from leads.read_apis import LeadDetailApi, LeadListApi

# With and without a trailing slash, never a redirect.
urlpatterns = [
    re_path(r"^create-lead/?$", LeadCreateApi.as_view(), name="lead-create"),
    re_path(r"^webhook/(?P<workspace_id>[^/]+)/?$", WebhookApi.as_view(), name="lead-webhook"),
    re_path(
        r"^webhook/(?P<workspace_id>[^/]+)/thanks/?$",
        WebhookThanksPage.as_view(),
        name="lead-webhook-thanks",
    ),
    re_path(r"^leads/?$", LeadListApi.as_view(), name="lead-list"),
    re_path(r"^leads/(?P<lead_id>[^/]+)/?$", LeadDetailApi.as_view(), name="lead-detail"),
]
