"""The strict JSON parser's two paths and the shared-encoder renderer, against the stdlib and
DRF: a body that cannot pass a limit skips the counting and the depth walk, one that might is
counted as before, and either way the value and every refusal are the same; the renderer
writes DRF's bytes. (The HTTP answers to bad bodies: leads/ and optin/ test_bad_input.py.)"""

import datetime
import decimal
import io
import json
import uuid

import pytest
from django.utils.translation import gettext_lazy
from hypothesis import given
from hypothesis import strategies as st
from rest_framework.renderers import JSONRenderer

from hushmetrics.parsers import MAX_JSON_DEPTH, PayloadTooLarge, StrictJSONParser, json_loads
from hushmetrics.renderers import SharedEncoderJSONRenderer

# Any JSON value Python's json reads back as itself (no NaN: it is refused).
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=30,
)


@pytest.fixture(params=["few colons", "counted"])
def path(request, settings):
    """Which way json_loads goes for the texts below (each has a string of four colons and at
    most three members): a text with no more colons than MAX_JSON_FIELDS cannot pass the
    budget (the quick path); with a budget of 3 it has more, and is counted as it is read."""
    if request.param == "counted":
        settings.MAX_JSON_FIELDS = 3
    return request.param


def nest(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_nesting_at_the_limit_is_read_and_one_deeper_is_refused():
    assert json_loads(nest(MAX_JSON_DEPTH)) is not None
    with pytest.raises(ValueError, match="nested too deeply"):
        json_loads(nest(MAX_JSON_DEPTH + 1))
    # Brackets inside strings count towards the walk, never towards the depth.
    text = json.dumps({"a": "[" * 500, "b": nest(10)})
    assert json_loads(text) == json.loads(text)


def test_colons_in_strings_past_the_budget_are_counted_not_refused(settings):
    settings.MAX_JSON_FIELDS = 3
    text = json.dumps({"url": "https://a:b@example.com:8080/x:y", "b": {"c": 1}})
    assert text.count(":") > 3

    assert json_loads(text) == json.loads(text)
    with pytest.raises(PayloadTooLarge):
        json_loads(json.dumps({"a": "x:x:x", "b": 1, "c": 2, "d": 3}))


@pytest.mark.usefixtures("path")
@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"pad": "::::", "a": 1, "a": 2}', "duplicate key 'a'"),
        ('{"pad": "::::", "a": {"b": 1, "b": 1}}', "duplicate key 'b'"),
        ('{"pad": "::::", "a": NaN}', "Out of range float values are not JSON compliant: 'NaN'"),
        ('["::::", -Infinity]', "Out of range float values are not JSON compliant: '-Infinity'"),
        ('\ufeff{"pad": "::::"}', "Unexpected UTF-8 BOM"),
        ('{"pad": "::::", "a": 1', "Expecting ',' delimiter"),
        ('["::::", ', "Expecting value"),
        ('{"pad": "::::"} {}', "Extra data"),
    ],
)
def test_every_refusal_is_the_same_on_both_paths(text, message):
    with pytest.raises(ValueError, match=message) as refused:
        json_loads(text)
    assert not isinstance(refused.value, PayloadTooLarge)


def members(value: object) -> int:
    if isinstance(value, dict):
        return len(value) + sum(members(child) for child in value.values())
    if isinstance(value, list):
        return sum(members(child) for child in value)
    return 0


@given(value=JSON_VALUES)
def test_any_json_reads_back_as_itself_on_both_paths(value):
    # Function-scoped fixtures do not reset between examples: the setting is set by hand.
    from django.conf import settings

    # Colons enough that the counting path reads it, with a budget it exactly meets.
    padded = [":" * (members(value) + 1), value]
    budget = settings.MAX_JSON_FIELDS
    try:
        settings.MAX_JSON_FIELDS = members(value)
        assert json_loads(json.dumps(padded)) == padded
        settings.MAX_JSON_FIELDS = 10**9  # the quick path whatever the colons
        assert json_loads(json.dumps(value)) == value
    finally:
        settings.MAX_JSON_FIELDS = budget


@pytest.mark.parametrize("charset", ["utf-8", "utf-16", "latin-1"])
def test_the_parser_decodes_the_declared_charset(charset):
    body = json.dumps({"name": "Zoë"}, ensure_ascii=False).encode(charset)
    parsed = StrictJSONParser().parse(io.BytesIO(body), "application/json", {"encoding": charset})
    assert parsed == {"name": "Zoë"}


# --- the renderer: DRF's bytes ----------------------------------------------------------------


ANSWERS = [
    {"status": "success", "data": {"id": "0b7f", "value": 500, "ok": True, "none": None}},
    {"text": "Zoë \u2028 line \u2029 para \U0001f600", "float": 499.99, "big": 10**30},
    [1, 2.5, "x", {"nested": [{"a": 1}]}],
    {
        "when": datetime.datetime(2026, 3, 9, 12, 0, 0, 123456, tzinfo=datetime.UTC),
        "day": datetime.date(2026, 3, 9),
        "money": decimal.Decimal("12.30"),
        "id": uuid.UUID("0b7f0c7e-6d3b-4a39-9a57-1b1f0c7e6d3b"),
        "lazy": gettext_lazy("Not found."),
        "tuple": (1, 2),
        1: "an int key",
    },
    "just a string",
    None,
]


@pytest.mark.parametrize("answer", ANSWERS)
@pytest.mark.parametrize(
    ("media", "context"),
    [
        ("application/json", {}),
        (None, None),
        ("application/json; indent=4", {}),
        ("application/json", {"indent": 2}),
    ],
)
def test_the_renderer_writes_drf_s_bytes(answer, media, context):
    ours = SharedEncoderJSONRenderer().render(answer, media, context)
    assert ours == JSONRenderer().render(answer, media, context)


@given(value=JSON_VALUES)
def test_any_json_renders_as_drf_renders_it(value):
    media = "application/json"
    assert SharedEncoderJSONRenderer().render(value, media, {}) == JSONRenderer().render(
        value, media, {}
    )


def test_the_renderer_refuses_nan_as_drf_does():
    for renderer in (SharedEncoderJSONRenderer(), JSONRenderer()):
        with pytest.raises(ValueError, match="Out of range float values"):
            renderer.render({"a": float("nan")}, "application/json", {})
