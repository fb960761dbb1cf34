"""The floor's endpoints: parse the JSON body, insert one row with the ORM, answer its id.

`floor checked` does the same after the two things any lead-ingest endpoint must do first:
count the request against a rate limit (django-ratelimit, one Redis round trip) and validate
the body (a plain DRF serializer of the documented fields). Nothing of ours is in either,
bar the cache client that makes the count one round trip, as ours is
(`hushmetrics.ratelimit_cache.CountingClient`; stock django-redis would take two). The ratio
of the two is what rate limiting and validation cost any Django + DRF implementation here.
"""

from typing import Any, cast

from django_ratelimit.core import is_ratelimited
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from bench.floor.models import Entry

COLUMNS = ("name", "email", "phone", "source", "value", "utm", "extra_data", "page_url")
# The lead's sources (leads.models.LeadSource), written out: the floor imports no model of ours.
SOURCES = ("website", "referral", "social", "ad", "email", "cold_call", "other")


class FloorApi(APIView):
    def post(self, request: Request) -> Response:
        data = cast(dict[str, Any], request.data)  # the bench posts a JSON object
        entry = Entry.objects.create(**{name: data[name] for name in COLUMNS if name in data})
        return Response({"id": entry.pk}, status=201)


class EntryInput(serializers.Serializer):
    name = serializers.CharField(max_length=300, required=False, allow_blank=True)
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=50, required=False, allow_blank=True)
    # The field, not Field.source: DRF moves declared fields off the class.
    source = serializers.ChoiceField(  # type: ignore[assignment]
        choices=SOURCES, required=False
    )
    value = serializers.DecimalField(max_digits=12, decimal_places=2, required=False)
    utm = serializers.DictField(required=False)
    extra_data = serializers.DictField(required=False)
    page_url = serializers.URLField(max_length=2048, required=False)


class FloorCheckedApi(APIView):
    def post(self, request: Request) -> Response:
        if is_ratelimited(request, group="floor", key="ip", rate="1000000/m", increment=True):
            return Response({"detail": "Too many requests"}, status=429)
        serializer = EntryInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        entry = Entry.objects.create(**serializer.validated_data)
        return Response({"id": entry.pk}, status=201)
