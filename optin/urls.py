from django.urls import re_path

from optin.apis import OptInSubmitApi

# With and without the trailing slash, never a redirect (APPEND_SLASH is off).
urlpatterns = [
    re_path(r"^submit/?$", OptInSubmitApi.as_view(), name="optin-submit"),
]
