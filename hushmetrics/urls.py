from django.contrib import admin
from django.urls import include, path, re_path

from hushmetrics import errors
from hushmetrics.apis import HealthApi

urlpatterns = [
    # Every API path answers with and without a trailing slash, never with a redirect.
    re_path(r"^v1/health/?$", HealthApi.as_view(), name="health"),
    re_path(r"^v1/", include("leads.urls")),
    path("admin/", admin.site.urls),
    # Unknown paths under the API prefixes answer in their surface's JSON envelope.
    re_path(r"^(v1|api)(/.*)?$", errors.not_found),
]

handler400 = errors.handler400
handler404 = errors.handler404
handler500 = errors.handler500
