"""The partner opt-in API: `POST /api/opt-in/submit`."""

from typing import cast

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from hushmetrics.ratelimit import enforce_rate_limit
from optin.schema import OPTIN_SUBMIT_SCHEMA
from optin.serializers import OptInSubmitSerializer
from optin.services import optin_submit
from workspaces.authentication import ApiKeyApiView, HasApiKey
from workspaces.models import ApiKey

RATE_LIMIT_GROUP = "optin-submit"
NEW_LEAD_MESSAGE = "Lead created via opt-in"
EXISTING_LEAD_MESSAGE = "Opt-in recorded for existing lead"


class OptInSubmitApi(ApiKeyApiView):
    """An opt-in for the key's workspace: 201 with a new lead, 200 for a known one or a replay."""

    permission_classes = [HasApiKey]

    @extend_schema(**OPTIN_SUBMIT_SCHEMA)
    def post(self, request: Request) -> Response:
        api_key = cast(ApiKey, request.auth)  # HasApiKey admits only a request with one
        enforce_rate_limit(
            request, group=RATE_LIMIT_GROUP, key=str(api_key.pk), rate=settings.RATE_LIMIT_OPTIN
        )
        serializer = OptInSubmitSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = optin_submit(api_key=api_key, **serializer.validated_data)

        body = {
            "status": "success",
            "message": NEW_LEAD_MESSAGE if result.is_new_lead else EXISTING_LEAD_MESSAGE,
            "data": {
                "opt_in_id": str(result.opt_in.id),
                "lead_id": str(result.opt_in.lead_id),
                "is_new_lead": result.is_new_lead,
            },
        }
        if result.replayed:
            return Response(body, headers={"Idempotent-Replayed": "true"})
        code = status.HTTP_201_CREATED if result.is_new_lead else status.HTTP_200_OK
        return Response(body, status=code)
