"""Endpoints that belong to the service as a whole rather than to one domain."""

import logging
from collections.abc import Iterable

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from drf_spectacular.renderers import (
    OpenApiJsonRenderer,
    OpenApiJsonRenderer2,
    OpenApiYamlRenderer,
    OpenApiYamlRenderer2,
)
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from hushmetrics.openapi import HEALTH_SCHEMA

logger = logging.getLogger(__name__)


class HealthApi(APIView):
    """Liveness and readiness: 200 when the database (and a configured cache) answer."""

    @extend_schema(**HEALTH_SCHEMA)
    def get(self, request: Request) -> Response:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
                cursor.fetchone()
        except Exception as error:
            logger.error("health: database unavailable: %s", error)
            return _unavailable("database unavailable")
        if settings.REDIS_URL:
            try:
                cache.get("health-check")
            except Exception as error:
                logger.error("health: cache unavailable: %s", error)
                return _unavailable("cache unavailable")
        return Response({"status": "ok"})


def _unavailable(message: str) -> Response:
    return Response(
        {"status": "error", "message": message}, status=503, headers={"Retry-After": "5"}
    )


class OpenApiYamlTextRenderer(OpenApiYamlRenderer):
    """The YAML schema as `text/plain`, which a browser shows (it downloads
    `application/vnd.oai.openapi`)."""

    media_type = "text/plain"


class BrowsersReadTheSchema(DefaultContentNegotiation):
    """A client that accepts `text/html` is a browser with someone reading: YAML as text.

    Any other client negotiates as before (`*/*`: `application/vnd.oai.openapi`), and
    `?format=json` is JSON for everyone.
    """

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        wanted = format_suffix or request.query_params.get(self.settings.URL_FORMAT_OVERRIDE)
        if wanted in (None, "yaml") and "text/html" in request.headers.get("Accept", ""):
            text = next(r for r in renderers if isinstance(r, OpenApiYamlTextRenderer))
            return text, text.media_type
        chosen: tuple[BaseRenderer, str] = super().select_renderer(
            request, renderers, format_suffix
        )
        return chosen


class SchemaApi(SpectacularAPIView):
    """`/v1/schema/`: the OpenAPI document, shown in a browser instead of downloaded.

    Clients get what they ask for: `application/vnd.oai.openapi` (also for `*/*`),
    `application/yaml`, `application/json` (also `?format=json`, which a browser shows too),
    `application/vnd.oai.openapi+json`, `text/plain`.
    """

    content_negotiation_class = BrowsersReadTheSchema
    renderer_classes = [
        OpenApiYamlRenderer,
        OpenApiYamlRenderer2,
        OpenApiJsonRenderer2,
        OpenApiJsonRenderer,
        OpenApiYamlTextRenderer,
    ]
