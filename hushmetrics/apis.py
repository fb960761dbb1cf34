"""Endpoints that belong to the service as a whole rather than to one domain."""

import logging

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from drf_spectacular.utils import extend_schema
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
