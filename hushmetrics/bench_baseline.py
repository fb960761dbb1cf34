"""The load benchmark's baseline: parse a JSON body and insert one row, nothing else.

Mounted only when BENCH_BASELINE=1 (see hushmetrics/urls.py); never in production. It runs
in the same gunicorn, settings and middleware as the real endpoints, so the ratio of an
endpoint's throughput to this one's is what our own code costs on top of the framework.
"""

from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from leads.models import Lead


class BaselineApi(APIView):
    def post(self, request: Request) -> Response:
        lead = Lead.objects.create(
            workspace_id=request.data["workspace_id"], name=request.data.get("name", "")
        )
        return Response({"id": str(lead.id)}, status=201)
