"""The bench's baseline endpoint is served by the bench's own settings, never by production's."""

import json

import pytest
from django.conf import settings
from django.test import override_settings
from django.urls import resolve

from bench.baseline.views import BaselineApi
from leads.models import Lead

pytestmark = pytest.mark.django_db


def test_production_has_no_baseline_endpoint_nor_a_setting_for_it(client):
    assert not hasattr(settings, "BENCH_BASELINE")
    # Production's /v1/ catch-all answers it: a JSON 404, not the baseline.
    assert getattr(resolve("/v1/bench-baseline").func, "cls", None) is not BaselineApi
    assert (
        client.post("/v1/bench-baseline", "{}", content_type="application/json").status_code == 404
    )


def test_the_bench_settings_are_production_s_plus_the_baseline(client, workspace):
    from bench.baseline import settings as bench_settings
    from hushmetrics import settings as production

    assert bench_settings.ROOT_URLCONF == "bench.baseline.urls" != production.ROOT_URLCONF
    assert bench_settings.MIDDLEWARE == production.MIDDLEWARE
    with override_settings(ROOT_URLCONF=bench_settings.ROOT_URLCONF):
        body = {"workspace_id": str(workspace.id), "name": "Jane", "value": 500}
        stored = client.post(
            "/v1/bench-baseline", json.dumps(body), content_type="application/json"
        )
        health = client.get("/v1/health")
        unknown = client.get("/v1/nowhere")
    assert stored.status_code == 201
    assert str(Lead.objects.get(name="Jane").id) == stored.json()["id"]
    assert health.status_code == 200  # the production URLs are all there
    assert (unknown.status_code, unknown.json()) == (404, {"message": "Not found"})
