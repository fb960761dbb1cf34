"""String limits come from the columns they fill: change a model, and the API follows."""

import runpy
from pathlib import Path

import pytest

from leads.models import Lead
from optin.models import OptIn

ROOT = Path(__file__).resolve().parents[2]


def _fields_of(module: str, serializer: str) -> dict:
    """The fields of `serializer`, built afresh from its module's source (as at import)."""
    return runpy.run_path(str(ROOT / module))[serializer]().fields


@pytest.fixture
def smaller_lead_columns(monkeypatch):
    limits = {"name": 30, "email": 31, "phone": 12, "page_url": 33}
    for name, limit in limits.items():
        monkeypatch.setattr(Lead._meta.get_field(name), "max_length", limit)
    monkeypatch.setattr(Lead._meta.get_field("value"), "max_digits", 7)
    monkeypatch.setattr(Lead._meta.get_field("value"), "decimal_places", 3)
    return limits


def test_create_lead_takes_its_limits_from_the_lead_model(smaller_lead_columns):
    fields = _fields_of("leads/serializers.py", "LeadCreateInputSerializer")
    assert {name: fields[name].max_length for name in smaller_lead_columns} == (
        smaller_lead_columns
    )
    assert (fields["value"].max_digits, fields["value"].decimal_places) == (7, 3)


def test_an_opt_in_field_that_fills_a_lead_field_is_no_longer_than_the_lead_s_column(
    smaller_lead_columns,
):
    fields = _fields_of("optin/serializers.py", "OptInSubmitSerializer")
    assert fields["phone_e164"].max_length == 12  # fills Lead.phone
    assert fields["traffic"].fields["landing_page"].max_length == 33  # fills Lead.page_url
    # Fields that fill no lead column keep their own column's limit.
    assert fields["email"].max_length == OptIn._meta.get_field("email").max_length
