"""The production URLs, with the baseline endpoint in front of them."""

from django.urls import re_path

from bench.baseline.views import BaselineApi
from hushmetrics import urls

urlpatterns = [re_path(r"^v1/bench-baseline/?$", BaselineApi.as_view()), *urls.urlpatterns]

handler400 = urls.handler400
handler404 = urls.handler404
handler500 = urls.handler500
