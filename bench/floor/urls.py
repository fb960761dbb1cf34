"""The floor's URLs: its endpoints, and a health answer for the bench's start-up wait."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from bench.floor.views import FloorApi, FloorCheckedApi


def health(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


urlpatterns = [
    path("bench/floor", FloorApi.as_view()),
    path("bench/floor-checked", FloorCheckedApi.as_view()),
    path("v1/health", health),
]
