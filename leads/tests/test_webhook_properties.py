"""Properties of the webhook normalisation, for any flat form a site can post.

A form delivers a mapping of field names to strings (repeated keys: lists of strings). Whatever
the names — empty, unicode, control characters, NULs, builders' spellings of the known fields,
PHP-style brackets — `normalise` returns a well-typed `WebhookSubmission` and keeps every
field somewhere: in a lead column, in `utm`, or in `extra_data`. The only exception it raises
is `EmptySubmission`, for a body with no field but control fields (`_next`, `_redirect`,
`_gotcha`, `_honeypot`).
"""

import dataclasses
import fnmatch
import json
import re
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from hushmetrics.text import strip_nul
from leads.models import Lead
from leads.tests.conftest import (
    SAMPLE_NAMES,
    load_sample,
    post_sample,
    sample_fields,
    sample_files,
)
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
from leads.webhook.vocabulary import CF7_SPECIAL_TAGS

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
    "_replyto", "_url", "_site_admin_email", "_remote_ip", "_id", "Nome", "Teléfono",
    "Prénom", "Nom", "E-Mail-Adresse", "Nachname", "Empresa", "Messaggio",
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
    """SPEC A.2: exactly `_next`, `_redirect`, `_gotcha` and `_honeypot` (any letter case)."""
    return key.replace("\x00", "").lower() in {"_next", "_redirect", "_gotcha", "_honeypot"}


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
    """Every string (and number, as text) inside a JSON-like value, stripped (the normaliser
    strips what it maps)."""
    if isinstance(value, str):
        return [value.strip()]
    if isinstance(value, bool | int | float):
        return [as_text(value)]
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
    `payload[data]`; Fluent Forms' `__submission` row (its form id and page are read, the
    rest — row id, IP, timestamps, a copy of the answers — is Fluent's)."""
    body = expand_brackets(fields)
    if isinstance(body.get("__submission"), dict) and key.startswith("__submission["):
        return True
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
@example(fields={"__submission[id]": "1"}, request_headers={})
def test_any_form_normalises_to_a_well_typed_lead_or_is_empty(fields, request_headers):
    try:
        submission = normalise(fields, request_headers)
    except EmptySubmission:
        # Only when no field is left once the control fields (and a builder's bookkeeping:
        # a Fluent Forms `__submission` row with no fields beside it) are set aside.
        posted = strip_nul(fields)
        assert all(_is_control(key) or _is_bookkeeping(key, posted) for key in posted)
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
        and name.lower() not in CF7_SPECIAL_TAGS
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


# --- every builder's sample: each answer it sends is in the lead ---------------------------
#
# A sample's body, as a tree (form keys nested as `normalise` nests them; a string holding a
# JSON object, Jotform's rawRequest, as the object it holds): every leaf not under one of the
# sample's `bookkeeping` paths (what its builder's unwrapping reads rather than stores) is an
# answer, and each answer, whole or as a delimited piece of a column (a name's parts), is
# somewhere in the stored lead. The property runs it on each sample with its answers replaced
# by any text or number; the API test on each sample as sent, through the real endpoint.

ANSWER_TEXTS = st.text(
    alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\x00"),
    max_size=20,
)


def _json_object(text: str) -> dict[str, Any] | None:
    try:
        parsed = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return parsed if isinstance(parsed, dict) else None


def _sample_body(sample: dict[str, Any]) -> dict[str, Any]:
    return expand_brackets(sample_fields(sample))


def _with_answers(value: Any, answer: Any, path: tuple[str, ...] = ()) -> Any:
    """`value` with each leaf replaced by `answer(path, leaf)`."""
    if isinstance(value, dict):
        return {key: _with_answers(item, answer, (*path, str(key))) for key, item in value.items()}
    if isinstance(value, list):
        return [_with_answers(item, answer, (*path, str(i))) for i, item in enumerate(value)]
    if isinstance(value, str) and (parsed := _json_object(value)) is not None:
        return json.dumps(_with_answers(parsed, answer, path))
    return answer(path, value)


def _answers(sample: dict[str, Any], body: dict[str, Any]) -> list[str]:
    """Every answer `body` sends (see above), as stored text."""
    found: list[str] = []

    def collect(path: tuple[str, ...], leaf: Any) -> Any:
        if _is_answer(sample, path) and leaf is not None:
            found.append(as_text(leaf))
        return leaf

    _with_answers(body, collect)
    return [text for text in found if text]


def _is_answer(sample: dict[str, Any], path: tuple[str, ...]) -> bool:
    joined = "/".join(path)
    return not _is_control(path[0]) and not any(
        fnmatch.fnmatchcase(joined, pattern) for pattern in sample.get("bookkeeping", [])
    )


def _unaccounted(answers: list[str], submission: WebhookSubmission) -> list[str]:
    outputs = _output_texts(submission)
    return [text for text in answers if not _accounted(text, submission, outputs)]


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_each_sample_has_answers_to_keep(name):
    sample = load_sample(name)
    assert _answers(sample, _sample_body(sample)), "a sample whose every leaf is bookkeeping"


@given(name=st.sampled_from(SAMPLE_NAMES), data=st.data())
def test_every_answer_a_builder_sends_is_in_the_lead(name, data):
    sample = load_sample(name)

    def any_answer(path: tuple[str, ...], leaf: Any) -> Any:
        if not _is_answer(sample, path) or data.draw(st.booleans(), label="as sent"):
            return leaf
        return data.draw(ANSWER_TEXTS | st.integers(-(10**6), 10**9), label="/".join(path))

    body = _with_answers(_sample_body(sample), any_answer)
    submission = normalise(body, sample["headers"], sample_files(sample))
    assert _unaccounted(_answers(sample, body), submission) == []


@pytest.mark.django_db
@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_every_answer_of_a_sample_sent_over_http_is_in_the_stored_lead(
    api_client, webhook_url, name
):
    sample = load_sample(name)

    post_sample(api_client, webhook_url, sample)

    lead = Lead.objects.get()
    stored = WebhookSubmission(
        name=lead.name,
        email=lead.email,
        phone=lead.phone,
        source=lead.source,
        value=lead.value,
        page_url=lead.page_url,
        utm=lead.utm,
        extra_data=lead.extra_data,
        submission_id=lead.submission_id,
    )
    answers = _answers(sample, _sample_body(sample))
    assert answers
    assert _unaccounted(answers, stored) == []
