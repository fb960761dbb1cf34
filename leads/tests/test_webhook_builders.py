"""Each builder module unwraps its builder's real payload (`fixtures/form-builders`), and
`unwrap` tells that payload apart from every other sample by its shape.

A sample names the builder module that unwraps it (`"builder"`); a new builder's samples are
checked here without a line of this file changing."""

import importlib
import pkgutil
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from hushmetrics.serializers import column_max_length, model_field
from hushmetrics.text import strip_nul
from leads import webhook
from leads.models import Lead
from leads.tests.conftest import SAMPLE_NAMES, load_sample, sample_fields
from leads.webhook import builders, expand_brackets, parse_money, unwrap
from leads.webhook.builders import Unwrapped
from leads.webhook.builders.elementor import unwrap_elementor
from leads.webhook.builders.fluent_forms import unwrap_fluent_forms
from leads.webhook.builders.jotform import unwrap_jotform
from leads.webhook.builders.tally import unwrap_tally
from leads.webhook.builders.typeform import unwrap_typeform
from leads.webhook.builders.webflow import unwrap_webflow
from leads.webhook.controls import MAX_RAW_SUBMISSION_ID, namespaced, submission_id_from
from leads.webhook.vocabulary import CENT

# Sample → (builder module, its function, what it unwraps the sample to).
WRAPPED = {
    "typeform.json": (
        "typeform",
        unwrap_typeform,
        Unwrapped(
            {
                "name": "Lucy Typeform",
                "email": "lucy@example.com",
                "utm_source": "facebook",
                "utm_campaign": "q1",
                "form_id": "lT4Z3j",
            },
            submission_id="typeform:01HXYZABCDEF0000000000000",
            typed={"email": "email"},
        ),
    ),
    "tally.json": (
        "tally",
        unwrap_tally,
        Unwrapped(
            {
                "Full Name": "John Doe",
                "Email": "john@example.com",
                "Budget": 1200,
                "utm_source": "newsletter",
                "form_id": "mZA0Av",
                "form_name": "Lead Form",
            },
            submission_id="tally:a4cb511e-d513-4fa5-baee-b815d718dfd1",
            typed={"Email": "email"},
        ),
    ),
    "webflow.json": (
        "webflow",
        unwrap_webflow,
        Unwrapped(
            {
                "First Name": "Zaphod",
                "Last Name": "Beeblebrox",
                "email": "zaphod@heartofgold.ai",
                "Phone Number": 15550000000,
                "form_name": "Contact Us",
                "form_id": "65429eadebe8a9f3a30f62d0",
            },
            submission_id="webflow:6321ca84df3949bfc6752327",
        ),
    ),
    "jotform.json": (
        "jotform",
        unwrap_jotform,
        Unwrapped(
            {
                "formID": "241234567890",
                "formTitle": "Contact",
                "name": {"first": "Niloth", "last": "P"},
                "email": "niloth@example.com",
                "message": "Hello",
            },
            submission_id="jotform:5912345678901234567",
        ),
    ),
    "elementor-advanced.json": (
        "elementor",
        unwrap_elementor,
        Unwrapped(
            {
                "name": "Ana Silva",
                "email": "ana@example.com",
                "message": "Need a demo",
                "remote_ip": "203.0.113.9",
                "form_id": "a1b2c3d",
                "form_name": "New Form",
            },
            page_url="https://site.example.com/pricing",
        ),
    ),
    "fluent-forms.json": (
        "fluent_forms",
        unwrap_fluent_forms,
        Unwrapped(
            {
                "names": {"first_name": "Ana", "last_name": "Silva"},
                "email": "ana@example.com",
                "message": "Hi",
                "form_id": 3,
            },
            page_url="https://site.example.com/contact",
        ),
    ),
}
# Sample → the builder module that unwraps it, as the sample says.
BUILT = {
    name: sample["builder"] for name in SAMPLE_NAMES if "builder" in (sample := load_sample(name))
}
# Builders whose fields arrive flat: `unwrap` hands them on as they are.
FLAT = [name for name in SAMPLE_NAMES if name not in BUILT]


def _body(name: str) -> dict:
    """The sample as `normalise` hands it to `unwrap`: NULs stripped, brackets nested."""
    fields = sample_fields(load_sample(name))
    return expand_brackets(strip_nul(fields, replace_surrogates=True))


@pytest.mark.parametrize("name", WRAPPED)
def test_each_builder_unwraps_its_own_payload(name):
    _, unwrap_builder, expected = WRAPPED[name]
    assert unwrap_builder(_body(name)) == expected


@pytest.mark.parametrize("name", WRAPPED)
def test_unwrap_sends_each_builders_payload_to_its_builder(name):
    assert unwrap(_body(name)) == WRAPPED[name][2]


@pytest.mark.parametrize("name", BUILT)
def test_unwrap_sends_each_sample_to_the_builder_it_names(name):
    module = importlib.import_module(f"leads.webhook.builders.{BUILT[name]}")
    body = _body(name)
    unwrapped = unwrap(body)
    assert unwrapped == getattr(module, f"unwrap_{BUILT[name]}")(body)
    assert unwrapped != Unwrapped(body)


@pytest.mark.parametrize("name", FLAT)
def test_unwrap_hands_flat_payloads_on_unchanged(name):
    body = _body(name)
    assert unwrap(body) == Unwrapped(body)


def test_every_builder_module_has_a_sample_here():
    modules = {info.name for info in pkgutil.iter_modules(builders.__path__)}
    assert modules == set(BUILT.values())
    assert {name: BUILT[name] for name in WRAPPED} == {
        name: module for name, (module, _, _) in WRAPPED.items()
    }
    assert sorted(FLAT) == [
        "contact-form-7-special-tags.json",
        "contact-form-7.json",
        "elementor-simple.json",
        "formspree.json",
        "framer.json",
        "gravity-forms.json",
        "html-form-text-plain.json",
        "html-form-with-attachment.json",
        "html-form.json",
        "labels-de.json",
        "labels-es.json",
        "labels-fr.json",
        "labels-it.json",
        "labels-pt.json",
        "wpforms.json",
        "zapier-wrapped-array.json",
    ]


@pytest.mark.parametrize("kind", ["key", "framer", "typeform", "tally", "webflow", "jotform"])
@pytest.mark.parametrize("length", [MAX_RAW_SUBMISSION_ID, MAX_RAW_SUBMISSION_ID + 1, 10_000])
def test_a_namespaced_retry_key_of_any_length_fits_the_lead_column(kind, length):
    key = namespaced(kind, "x" * length)
    assert key is not None
    assert len(key) <= column_max_length(Lead, "submission_id")
    assert key.startswith(f"{kind}:")
    if length > MAX_RAW_SUBMISSION_ID:
        assert key.startswith(f"{kind}:sha256:")
    headers = {"Idempotency-Key": "k" * length}
    assert submission_id_from(headers, None) == namespaced("key", "k" * length)


@pytest.mark.parametrize(
    ("limit", "column"),
    [
        (webhook.MAX_NAME, "name"),
        (webhook.MAX_EMAIL, "email"),
        (webhook.MAX_PHONE, "phone"),
        (webhook.MAX_PAGE_URL, "page_url"),
    ],
)
def test_each_text_limit_is_its_lead_columns(limit, column):
    field = model_field(Lead, column)
    field.clean("x" * limit, None)
    with pytest.raises(ValidationError):
        field.clean("x" * (limit + 1), None)


def test_the_money_limits_are_the_lead_value_columns():
    field = Lead._meta.get_field("value")
    assert field.clean(webhook.MAX_VALUE, None) == Decimal("999999999999.99")
    with pytest.raises(ValidationError):
        field.clean(webhook.MAX_VALUE + CENT, None)
    with pytest.raises(ValidationError):
        field.clean(CENT / 10, None)
    assert parse_money(str(webhook.MAX_VALUE)) == webhook.MAX_VALUE
    assert parse_money(str(webhook.MAX_VALUE + CENT)) is None
    assert parse_money("1.239") == Decimal("1.24")  # rounded to the column's cent
