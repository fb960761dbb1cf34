"""The load benchmark's baseline: parse a JSON body and insert one row, nothing else.

Mounted only by the bench's own settings (bench/baseline/settings.py), never in production,
at /v1/bench-baseline: an API path, so it runs in the same gunicorn, settings and middleware
(the API requests' lean path, hushmetrics.middleware.browser_only) as the real endpoints.
It is sent the documented create-lead body, which it stores as it comes, unchecked: the same
row in the same table (same indexes) as create-lead writes. So the ratio of an endpoint's
throughput to this one's is what our own code costs on top of the framework and the write
itself: validation, rate limiting, the workspace, the key, the response.
"""

from typing import Any, cast

from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from leads.models import Lead

COLUMNS = ("name", "email", "phone", "source", "value", "utm", "extra_data", "page_url")


class BaselineApi(APIView):
    def post(self, request: Request) -> Response:
        data = cast(dict[str, Any], request.data)  # the bench posts a JSON object
        lead = Lead.objects.create(
            workspace_id=data["workspace_id"],
            **{name: data[name] for name in COLUMNS if name in data},
        )
        return Response({"id": str(lead.id)}, status=201)
