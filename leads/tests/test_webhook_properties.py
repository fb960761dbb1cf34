"""Properties of the webhook normalisation, for any flat form a site can post.

A form delivers a mapping of field names to strings (repeated keys: lists of strings). Whatever
the names — empty, unicode, control characters, NULs, builders' spellings of the known fields,
PHP-style brackets — `normalise` returns a well-typed `WebhookSubmission` and keeps every
field somewhere: in a lead column, in `utm`, or in `extra_data`. The only exception it raises
is `EmptySubmission`, for a body with no field but control fields (`_…`).
"""

import dataclasses
import json
import re
from decimal import Decimal
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from hushmetrics.text import strip_nul
from leads.models import Lead
from leads.webhook import (
    ALIASES,
    MAX_EMAIL,
    MAX_NAME,
    MAX_PAGE_URL,
    MAX_PHONE,
    MAX_VALUE,
    PROTECTED,
    EmptySubmission,
    WebhookSubmission,
    as_text,
    canonical,
    expand_brackets,
    normalise,
    parse_money,
)

# Spellings the builders send for the known fields, and names the normaliser treats specially.
SPECIAL_NAMES = [
    "name", "Name", "full_name", "your-name", "First Name", "first_name", "Last Name", "lname",
    "middle", "email", "Email", "E-mail", "e-mail", "EMAIL", "email_address", "your-email",
    "phone", "tel", "Phone Number", "your-phone", "source", "Lead Source", "value", "deal-value",
    "page_url", "Page URL", "source_url", "landing_page", "status", "id", "workspace_id",
    "is_spam", "created_by", "submission_id", "utm", "utm_source", "UTM Source", "utm-medium",
    "utm_campaign", "utm_x", "extra_data", "Extra Data", "names", "fields", "meta", "form",
    "formID", "submissionID", "rawRequest", "pretty", "_gotcha", "_honeypot", "_next",
    "_redirect", "_subject", "__submission", "", " ", "\x00", "na\x00me", "e\x00mail",
]  # fmt: skip
ROOTS = ["fields", "meta", "form", "names", "name", "utm", "extra_data", "tags", "payload",
         "data", "form_response", "__submission", "x"]  # fmt: skip
BRACKET_PARTS = ["name", "email", "first_name", "last_name", "value", "raw_value", "title",
                 "field_a1", "source", "data", "answers", "fields", "source_url", "page_url", "x",
                 "utm_source", "1", ""]  # fmt: skip
# Values that exercise the lenient parsers (money, enums, addresses, URLs) besides any text.
SPECIAL_VALUES = [
    "", " ", "ana@example.com", " bob@example.org ", "not an email@", "1,500.50", "1.500,50",
    "$ 99", "-5", "1e999", "NaN", "Infinity", "9999999999999", "website", "Cold Call", "OTHER",
    "https://example.com/page", "javascript:alert(1)", "user_2abc", "\x00", "a\x00b", "é" * 301,
    "x" * 2100, "true", "null",
]  # fmt: skip


def _bracketed(root: str, parts: list[str]) -> str:
    return root + "".join(f"[{part}]" for part in parts)


names = st.one_of(
    st.sampled_from(SPECIAL_NAMES),
    st.text(max_size=12),  # any unicode, control characters and NUL included
    st.builds(
        _bracketed,
        st.sampled_from(ROOTS) | st.text(min_size=1, max_size=5),
        st.lists(st.sampled_from(BRACKET_PARTS) | st.text(max_size=4), min_size=1, max_size=3),
    ),
)
texts = st.one_of(st.sampled_from(SPECIAL_VALUES), st.text(max_size=30))
values = st.one_of(texts, st.lists(texts, max_size=4))
forms = st.dictionaries(names, values, max_size=8)
headers = st.dictionaries(
    st.sampled_from(
        ["Referer", "Origin", "Accept", "Idempotency-Key", "Framer-Webhook-Submission-Id"]
    ),
    st.sampled_from(["https://example.com/contact", "text/html", "null", "", "k-1", "x" * 300])
    | st.text(max_size=20),
    max_size=5,
)


def _is_control(key: str) -> bool:
    return key.replace("\x00", "").startswith("_")


def _is_text_tree(value: Any) -> bool:
    """A posted value as kept: a string, or a list or str-keyed object of them (bracket keys)."""
    if isinstance(value, str):
        return True
    if isinstance(value, list):
        return all(_is_text_tree(item) for item in value)
    if isinstance(value, dict):
        return all(isinstance(key, str) and _is_text_tree(item) for key, item in value.items())
    return False


def _leaves(value: Any) -> list[str]:
    """Every string inside a JSON-like value, stripped (the normaliser strips what it maps)."""
    if isinstance(value, str):
        return [value.strip()]
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in _leaves(item)]
    if isinstance(value, list):
        return [leaf for item in value for leaf in _leaves(item)]
    return []


def _output_texts(submission: WebhookSubmission) -> set[str]:
    texts = {submission.name, submission.email, submission.phone, submission.page_url or ""}
    texts.update(_leaves(submission.utm or {}))
    texts.update(_leaves(submission.extra_data or {}))
    if submission.submission_id:
        texts.add(submission.submission_id.split(":", 1)[1])
    return texts


def _accounted(text: str, submission: WebhookSubmission, outputs: set[str]) -> bool:
    """`text` (one posted value, stripped of NULs and spaces) is in the submission somewhere."""
    columns = [submission.name, submission.email, submission.phone, submission.page_url or ""]
    columns += (submission.utm or {}).values()
    # A column or utm entry holds a value whole, or joined with others (`as_text`: list items
    # with ", ", an object's values with " "): the text must be one of the joined pieces, not
    # merely a substring of some column.
    delimited = re.compile(rf"(?:^|, | ){re.escape(text)}(?:$|, | )")
    return (
        text in outputs
        or any(delimited.search(column) for column in columns)
        or canonical(text) == submission.source
        or parse_money(text) == submission.value
    )


def _jotform_answers_read(body: dict[str, Any]) -> bool:
    raw = body.get("rawRequest")
    try:
        parsed = json.loads(raw) if isinstance(raw, str) else None
    except (ValueError, RecursionError):
        return False
    return isinstance(parsed, dict) and any(re.match(r"q\d+_.", str(key)) for key in parsed)


def _is_bookkeeping(key: str, fields: dict[str, Any]) -> bool:
    """What a builder's unwrapping reads rather than stores (SPEC A.2: the lead comes out as
    clean as a flat form's): Jotform's `submissionID` (the retry key) and, once the answers
    in `rawRequest` are read, `rawRequest` and `pretty` (a copy of them); Elementor's metadata
    beside each field's value (id, type, title, required, raw_value); Webflow's beside its
    `payload[data]`."""
    body = expand_brackets(fields)
    if isinstance(body.get("rawRequest"), str) and (
        key == "submissionID" or (key in ("rawRequest", "pretty") and _jotform_answers_read(body))
    ):
        return True
    elements = body.get("fields")
    if (
        isinstance(elements, dict)
        and elements
        and all(
            isinstance(item, dict) and {"value", "raw_value"} & set(item)
            for item in elements.values()
        )
    ):
        match = re.fullmatch(r"(fields|meta)\[[^\[\]]*\]\[([^\[\]]*)\].*", key)
        if match and match.group(2) != "value":
            return True
    payload = body.get("payload")
    if isinstance(payload, dict) and isinstance(payload.get("data"), dict):
        return key.startswith("payload[") and not key.startswith("payload[data]")
    return False


def _assert_types(submission: WebhookSubmission) -> None:
    assert isinstance(submission, WebhookSubmission)
    for text, limit in (
        (submission.name, MAX_NAME),
        (submission.email, MAX_EMAIL),
        (submission.phone, MAX_PHONE),
    ):
        assert isinstance(text, str)
        assert len(text) <= limit
        assert "\x00" not in text
    assert submission.source in Lead.Source.values
    assert isinstance(submission.value, Decimal)
    assert Decimal(0) <= submission.value <= MAX_VALUE
    assert submission.value == submission.value.quantize(Decimal("0.01"))
    if submission.page_url is not None:
        assert isinstance(submission.page_url, str)
        assert 0 < len(submission.page_url) <= MAX_PAGE_URL
    if submission.utm is not None:
        assert submission.utm
        for key, text in submission.utm.items():
            assert isinstance(key, str)
            assert key.startswith("utm_")
            assert isinstance(text, str)
            assert text
    if submission.extra_data is not None:
        assert submission.extra_data
        assert _is_text_tree(submission.extra_data)
        # It goes into a JSON column as it is, and PostgreSQL refuses a NUL in JSON text.
        assert "\\u0000" not in json.dumps(submission.extra_data)
    assert isinstance(submission.is_spam, bool)
    for optional in (submission.submission_id, submission.redirect_to):
        assert optional is None or (isinstance(optional, str) and optional)
    if submission.submission_id is not None:
        assert len(submission.submission_id) <= 255


@given(fields=forms, request_headers=headers)
@example(fields={}, request_headers={})
@example(fields={"_gotcha": "", "_next": "https://x.example/"}, request_headers={})
@example(fields={"\x00_next": "x"}, request_headers={})
def test_any_form_normalises_to_a_well_typed_lead_or_is_empty(fields, request_headers):
    try:
        submission = normalise(fields, request_headers)
    except EmptySubmission:
        # Exactly when no field is left once the control fields are set aside.
        assert all(_is_control(key) for key in fields)
        return
    assert not all(_is_control(key) for key in fields)
    _assert_types(submission)
    assert submission.is_spam == any(
        as_text(value)
        for key, value in strip_nul(fields).items()
        if key in ("_gotcha", "_honeypot")
    )


@given(fields=forms, request_headers=headers)
@example(fields={"a": "1", "a\x00": "2"}, request_headers={})
@example(fields={"utm_source": "a", "UTM Source": "b"}, request_headers={})
@example(fields={"extra_data[source]": "x", "source": "Facebook"}, request_headers={})
@example(fields={"names[first_name]": "A", "first_name": "B"}, request_headers={})
def test_no_posted_field_is_dropped(fields, request_headers):
    try:
        submission = normalise(fields, request_headers)
    except EmptySubmission:
        return
    outputs = _output_texts(submission)
    # NULs go first; names that differ only by NULs are one repeated key (a list of values).
    posted = strip_nul(fields)
    for key, value in posted.items():
        if _is_control(key) or _is_bookkeeping(key, posted):
            continue  # control fields steer the request; SPEC A.2 does not store them
        items = value if isinstance(value, list) else [value]
        for item in items:
            text = item.strip()
            if not text:
                continue  # an empty value carries nothing to keep
            assert _accounted(text, submission, outputs), (key, item)


plain_names = st.text(min_size=1, max_size=12).filter(
    lambda name: (
        not _is_control(name)
        and "\x00" not in name
        and "[" not in name
        and not canonical(name).startswith("utm")
        and canonical(name) not in {"utm", "extra_data", "rawrequest"}
        and canonical(name) not in ALIASES
        and canonical(name) not in PROTECTED
    )
)


@given(fields=st.dictionaries(plain_names, st.text(max_size=20), min_size=1, max_size=6))
def test_fields_with_no_known_meaning_are_kept_verbatim(fields):
    submission = normalise(fields, {})
    posted = strip_nul(fields)
    extra = dict(submission.extra_data or {})
    if submission.email:  # the one field holding a valid address becomes the email (A.2)
        key = next(key for key, value in posted.items() if value.strip() == submission.email)
        extra[key] = posted[key]
    assert extra == posted
    assert dataclasses.replace(submission, extra_data=None, email="") == WebhookSubmission()
