"""The floor's one endpoint: parse the JSON body, insert one row with the ORM, answer its id."""

from typing import Any, cast

from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from bench.floor.models import Entry

COLUMNS = ("name", "email", "phone", "source", "value", "utm", "extra_data", "page_url")


class FloorApi(APIView):
    def post(self, request: Request) -> Response:
        data = cast(dict[str, Any], request.data)  # the bench posts a JSON object
        entry = Entry.objects.create(**{name: data[name] for name in COLUMNS if name in data})
        return Response({"id": entry.pk}, status=201)
