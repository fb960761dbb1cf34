from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularSwaggerView

from hushmetrics import errors
from hushmetrics.apis import HealthApi, SchemaApi

urlpatterns = [
    # Every API path answers with and without a trailing slash, never with a redirect.
    re_path(r"^v1/health/?$", HealthApi.as_view(), name="health"),
    re_path(r"^v1/schema/?$", SchemaApi.as_view(), name="schema"),
    re_path(r"^v1/docs/?$", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    re_path(r"^v1/", include("leads.urls")),
    path("admin/", admin.site.urls),
    path("api/opt-in/", include("optin.urls")),
    # Unknown paths under the API prefixes answer in their surface's JSON envelope.
    re_path(r"^(v1|api)(/.*)?$", errors.not_found),
]

handler400 = errors.handler400
handler404 = errors.handler404
handler500 = errors.handler500
