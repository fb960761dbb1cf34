"""Webhook payload normalisation: pure functions from a form's raw fields to a lead's fields.

Input: the submitted fields (a dict; repeated form keys already a list, uploaded files as
their names) and the request headers. Output: a `WebhookSubmission`. No database, no
request object: everything here is tested with the form builders' real payloads.

The pipeline: strip NULs (and lone surrogates) → nest PHP-style bracket keys
(`fields[email][value]`) → unwrap the builders that wrap their fields (Typeform, Tally,
Webflow, Jotform, Elementor advanced, Fluent Forms) into one flat dict → map each field
onto the lead (aliases, `utm_*`, protected and control fields, everything else to
extra_data).
"""

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from hushmetrics.parsers import MAX_JSON_DEPTH
from leads.models import Lead

MAX_NAME = Lead._meta.get_field("name").max_length
MAX_EMAIL = Lead._meta.get_field("email").max_length
MAX_PHONE = Lead._meta.get_field("phone").max_length
MAX_PAGE_URL = Lead._meta.get_field("page_url").max_length
MAX_VALUE = Decimal("999999999999.99")  # max_digits=14, decimal_places=2
# Longer ids are stored as a hash so they fit Lead.submission_id (255).
MAX_RAW_SUBMISSION_ID = 200

# Canonical spelling (see `canonical`) → the lead field it fills.
ALIASES: dict[str, str] = {
    **dict.fromkeys(
        ["name", "names", "full_name", "fullname", "your_name", "contact_name", "customer_name"],
        "name",
    ),
    **dict.fromkeys(
        ["first_name", "firstname", "first", "fname", "given_name", "your_first_name"],
        "first_name",
    ),
    **dict.fromkeys(
        ["last_name", "lastname", "last", "lname", "surname", "family_name", "your_last_name"],
        "last_name",
    ),
    **dict.fromkeys(["middle_name", "middle"], "middle_name"),
    **dict.fromkeys(
        ["email", "e_mail", "email_address", "e_mail_address", "emailaddress", "your_email"],
        "email",
    ),
    **dict.fromkeys(
        [
            "phone",
            "tel",
            "telephone",
            "phone_number",
            "phonenumber",
            "your_phone",
            "your_tel",
            "mobile",
            "mobile_phone",
            "mobile_number",
        ],
        "phone",
    ),
    **dict.fromkeys(
        ["page_url", "pageurl", "source_url", "landing_page", "landing_page_url", "page_uri"],
        "page_url",
    ),
    **dict.fromkeys(["source", "lead_source"], "source"),
    **dict.fromkeys(["value", "lead_value", "deal_value"], "value"),
}
# Lead columns a form may not set: kept in extra_data under the posted key, nothing more.
PROTECTED = frozenset(
    {
        "id",
        "workspace",
        "workspace_id",
        "status",
        "is_spam",
        "created_by",
        "setter",
        "submission_id",
        "created_at",
        "updated_at",
    }
)
HONEYPOTS = ("_gotcha", "_honeypot")
REDIRECTS = ("_next", "_redirect")
# Elementor names fields it was not told a name for `field_<hex>`; its title reads better.
ELEMENTOR_AUTO_ID = re.compile(r"^field_[0-9a-f]+$")
BRACKET_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])+)$")
JOTFORM_KEY = re.compile(r"^q\d+_(.+)$")
NON_WORD = re.compile(r"[\W_]+")
SURROGATE = re.compile(r"[\ud800-\udfff]")
# A currency mark before an amount ("$ 99", "R$1.500,00") and, read backwards, after it
# ("99 EUR"): up to three capitals and the symbols or spaces beside them.
CURRENCY_BEFORE = re.compile(r"[A-Z]{0,3}[^\w\-.,]*")
CURRENCY_AFTER_REVERSED = re.compile(r"[A-Z]{0,3}[^\w.,]*")


class EmptySubmission(Exception):
    """The body carries no field at all (control fields do not count)."""


@dataclass(frozen=True)
class WebhookSubmission:
    """The lead fields one webhook delivery yields."""

    name: str = ""
    email: str = ""
    phone: str = ""
    source: str = Lead.Source.OTHER
    value: Decimal = Decimal("0.00")
    page_url: str | None = None
    utm: dict[str, str] | None = None
    extra_data: dict[str, Any] | None = None
    is_spam: bool = False
    submission_id: str | None = None
    redirect_to: str | None = None


@dataclass
class _Unwrapped:
    fields: dict[str, Any]
    submission_id: str | None = None  # already namespaced, e.g. "tally:<eventId>"
    page_url: str | None = None  # the builder's own page URL, below a body field
    typed: dict[str, str] = field(default_factory=dict)  # key → lead field, from answer types


def canonical(key: str) -> str:
    """Case-insensitive, punctuation-blind spelling: `E-mail`, `e mail`, `E_MAIL` → `e_mail`."""
    return NON_WORD.sub("_", key.casefold()).strip("_")


def keep(target: dict[str, Any], key: str, value: Any) -> None:
    """Put `value` under `key`, never overwriting: a taken key keeps both values as a list,
    as a repeated form key does (an equal value is not repeated)."""
    if key not in target:
        target[key] = value
    elif target[key] != value:
        existing = target[key]
        target[key] = [
            *(existing if isinstance(existing, list) else [existing]),
            *(value if isinstance(value, list) else [value]),
        ]


def strip_nul(value: Any, *, replace_surrogates: bool = False) -> Any:
    """The value with every NUL character removed (PostgreSQL cannot store one), recursively;
    with `replace_surrogates`, lone surrogates (a JSON `\\ud800`, which UTF-8 cannot encode)
    become U+FFFD, as Django does with a form's undecodable bytes.

    Two keys that differ only by NULs become one repeated key: both values are kept.
    """
    if isinstance(value, str):
        value = value.replace("\x00", "")
        return SURROGATE.sub("\ufffd", value) if replace_surrogates else value
    if isinstance(value, dict):
        result: dict[str, Any] = {}
        for key, item in value.items():
            keep(
                result,
                strip_nul(str(key), replace_surrogates=replace_surrogates),
                strip_nul(item, replace_surrogates=replace_surrogates),
            )
        return result
    if isinstance(value, list | tuple):
        return [strip_nul(item, replace_surrogates=replace_surrogates) for item in value]
    return value


def as_text(value: Any) -> str:
    """A scalar (or list of scalars) as one stripped string; "" for null."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list | tuple):
        return ", ".join(text for item in value if (text := as_text(item)))
    if isinstance(value, dict):
        return " ".join(text for item in value.values() if (text := as_text(item)))
    return str(value).strip()


def parse_money(raw: Any) -> Decimal | None:
    """A non-negative amount with 2 places from a number or `"1,500.50"`/`"$ 99"`; else None."""
    if isinstance(raw, bool) or raw is None:
        return None
    if isinstance(raw, int | float | Decimal):
        text = str(raw)
    elif isinstance(raw, str):
        # Currency marks around the number go ("$ 99", "99 EUR", "R$1.500,00"); letters
        # inside it ("1e999", "12abc") make it unparsable rather than a different number.
        text = raw.strip()
        text = text[CURRENCY_BEFORE.match(text).end() :]
        # Matched on the reversed text, anchored: linear. As a search for `…$` a long
        # non-word run took quadratic time (one 100 KB value held a worker for minutes).
        after = CURRENCY_AFTER_REVERSED.match(text[::-1]).end()
        text = text[: len(text) - after]
        text = re.sub(r"[\s\u00a0']", "", text)
        if not re.fullmatch(r"-?[\d.,]+", text):
            return None
        if "," in text and "." in text:
            # The later separator is the decimal point: 1,500.50 and 1.500,50.
            if text.rfind(",") > text.rfind("."):
                text = text.replace(".", "").replace(",", ".")
            else:
                text = text.replace(",", "")
        elif "," in text:
            head, *groups = text.split(",")
            if len(groups) == 1 and 1 <= len(groups[0]) <= 2:
                text = f"{head}.{groups[0]}"  # 12,50 → 12.50
            else:
                text = text.replace(",", "")  # 1,500 or 1,500,000
    else:
        return None
    if not text or text in {"-", "."}:
        return None
    try:
        amount = Decimal(text)
    except InvalidOperation:
        return None
    if not amount.is_finite() or amount < 0 or amount > MAX_VALUE:
        return None
    return amount.quantize(Decimal("0.01"))


def _set_path(target: dict[str, Any], parts: list[str], value: Any) -> bool:
    """Place `value` at `parts` in nested dicts; False when the shape conflicts."""
    node = target
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            return False
        node = child
    last = parts[-1]
    if last == "":  # `key[]`: a list
        return False
    if last in node and isinstance(node[last], dict):
        return False
    node[last] = value
    return True


def expand_brackets(fields: Mapping[str, Any]) -> dict[str, Any]:
    """PHP-style keys as nesting: `fields[email][value]=x` → {"fields": {"email": {"value": x}}}.

    `key[]` becomes a list under `key`. A key whose shape conflicts with another is kept flat.
    """
    result: dict[str, Any] = {}
    bracketed = []
    for key, value in fields.items():
        match = BRACKET_KEY.match(key)
        # A key nested past what a JSON body may nest stays flat, as a key like any other.
        if match and match.group(2).count("[") < MAX_JSON_DEPTH:
            bracketed.append((key, match, value))
        else:
            result[key] = value
    # Plain keys first, so a bracket key that collides with one stays flat, never overwrites.
    for key, match, value in bracketed:
        parts = [match.group(1), *re.findall(r"\[([^\[\]]*)\]", match.group(2))]
        existing = result.get(parts[0])
        if parts[-1] == "" and len(parts) == 2 and (existing is None or isinstance(existing, list)):
            result.setdefault(parts[0], []).extend(value if isinstance(value, list) else [value])
        elif (existing is not None and not isinstance(existing, dict)) or not _set_path(
            result, parts, value
        ):
            result[key] = value
    return result


# --- builders -------------------------------------------------------------------------------


def _namespaced(kind: str, raw: Any) -> str | None:
    text = as_text(raw)
    if not text:
        return None
    if len(text) > MAX_RAW_SUBMISSION_ID:
        text = "sha256:" + hashlib.sha256(text.encode()).hexdigest()
    return f"{kind}:{text}"


def _unwrap_typeform(body: dict[str, Any]) -> _Unwrapped:
    response = body["form_response"]
    definition = response.get("definition") if isinstance(response.get("definition"), dict) else {}
    titles = {
        item.get("id"): item.get("title")
        for item in definition.get("fields") or []
        if isinstance(item, dict)
    }
    fields: dict[str, Any] = {}
    typed: dict[str, str] = {}
    for answer in response.get("answers") or []:
        if not isinstance(answer, dict):
            continue
        kind = str(answer.get("type") or "")
        value = answer.get(kind)
        if kind == "choice" and isinstance(value, dict):
            value = value.get("label") or value.get("other")
        elif kind == "choices" and isinstance(value, dict):
            value = [
                *(value.get("labels") or []),
                *([value["other"]] if value.get("other") else []),
            ]
        elif kind == "payment" and isinstance(value, dict):
            value = value.get("amount")
        meta = answer.get("field") if isinstance(answer.get("field"), dict) else {}
        ref, field_id = str(meta.get("ref") or ""), str(meta.get("id") or "")
        key = ref if canonical(ref) in ALIASES else (titles.get(field_id) or ref or field_id)
        fields[str(key)] = value
        if kind in ("email", "phone_number"):
            typed[str(key)] = "email" if kind == "email" else "phone"
    for key, value in (response.get("hidden") or {}).items():
        keep(fields, str(key), value)
    if response.get("form_id"):
        fields.setdefault("form_id", response["form_id"])
    if definition.get("title"):
        fields.setdefault("form_name", definition["title"])
    return _Unwrapped(fields, _namespaced("typeform", body.get("event_id")), typed=typed)


def _tally_value(item: dict[str, Any]) -> Any:
    value = item.get("value")
    options = {
        option.get("id"): option.get("text")
        for option in item.get("options") or []
        if isinstance(option, dict)
    }
    if options and isinstance(value, list):
        value = [options.get(choice, choice) for choice in value]
        if item.get("type") in ("MULTIPLE_CHOICE", "DROPDOWN") and len(value) == 1:
            value = value[0]
    return value


def _unwrap_tally(body: dict[str, Any]) -> _Unwrapped:
    data = body["data"]
    fields: dict[str, Any] = {}
    typed: dict[str, str] = {}
    for item in data.get("fields") or []:
        if not isinstance(item, dict):
            continue
        key = str(item.get("label") or item.get("key") or "")
        if not key:
            continue
        fields[key] = _tally_value(item)
        if item.get("type") == "INPUT_EMAIL":
            typed[key] = "email"
        elif item.get("type") == "INPUT_PHONE_NUMBER":
            typed[key] = "phone"
    if data.get("formId"):
        fields.setdefault("form_id", data["formId"])
    if data.get("formName"):
        fields.setdefault("form_name", data["formName"])
    return _Unwrapped(fields, _namespaced("tally", body.get("eventId")), typed=typed)


def _unwrap_webflow(body: dict[str, Any]) -> _Unwrapped:
    payload = body["payload"]
    fields = {str(key): value for key, value in payload["data"].items()}
    for key, value in body.items():
        if key not in ("triggerType", "payload"):
            keep(fields, key, value)
    if payload.get("name"):
        fields.setdefault("form_name", payload["name"])
    if payload.get("formId"):
        fields.setdefault("form_id", payload["formId"])
    return _Unwrapped(fields, _namespaced("webflow", payload.get("id")))


def _unwrap_jotform(body: dict[str, Any]) -> _Unwrapped:
    try:
        raw = json.loads(body["rawRequest"])
    except (TypeError, ValueError, RecursionError):
        raw = None
    # q3_name → name; the rest of rawRequest is Jotform's bookkeeping.
    answers = {
        match.group(1): value
        for key, value in (raw.items() if isinstance(raw, dict) else ())
        if (match := JOTFORM_KEY.match(str(key)))
    }
    # `pretty` repeats the answers: both it and rawRequest go once the answers are read, and
    # are kept when they cannot be, rather than lose the submission.
    consumed = ("rawRequest", "pretty", "submissionID") if answers else ("submissionID",)
    fields = {key: value for key, value in body.items() if key not in consumed}
    for key, value in answers.items():
        keep(fields, key, value)
    return _Unwrapped(fields, _namespaced("jotform", body.get("submissionID")))


def _unwrap_elementor(body: dict[str, Any]) -> _Unwrapped:
    fields: dict[str, Any] = {}
    for key, item in body["fields"].items():
        title = item.get("title")
        name = title if ELEMENTOR_AUTO_ID.match(str(key)) and title else str(key)
        fields[name] = item.get("value", item.get("raw_value"))
    page_url = None
    meta = body.get("meta") if isinstance(body.get("meta"), dict) else {}
    for key, item in meta.items():
        value = item.get("value") if isinstance(item, dict) else item
        if key == "page_url":
            page_url = as_text(value) or None
        else:
            keep(fields, str(key), value)
    form = body.get("form") if isinstance(body.get("form"), dict) else {}
    for key, value in form.items():
        keep(fields, f"form_{key}", value)
    for key, value in body.items():
        if key != "fields" and not (key in ("meta", "form") and isinstance(value, dict)):
            keep(fields, key, value)
    return _Unwrapped(fields, page_url=page_url)


def _unwrap_fluent(body: dict[str, Any]) -> _Unwrapped:
    submission = body["__submission"]
    fields = {key: value for key, value in body.items() if key != "__submission"}
    if submission.get("form_id") is not None:
        fields.setdefault("form_id", submission["form_id"])
    return _Unwrapped(fields, page_url=as_text(submission.get("source_url")) or None)


def _is_dict(value: Any) -> bool:
    return isinstance(value, dict)


def unwrap(body: dict[str, Any]) -> _Unwrapped:
    """The builder's fields as one flat dict, with its submission id and page URL if any."""
    response = body.get("form_response")
    answers = response.get("answers") if _is_dict(response) else None
    if _is_dict(response) and (
        (isinstance(answers, list) and answers and all(_is_dict(item) for item in answers))
        or body.get("event_type") == "form_response"
    ):
        return _unwrap_typeform(body)
    data = body.get("data")
    if _is_dict(data) and isinstance(data.get("fields"), list) and "eventId" in body:
        return _unwrap_tally(body)
    payload = body.get("payload")
    if _is_dict(payload) and _is_dict(payload.get("data")):
        return _unwrap_webflow(body)
    if isinstance(body.get("rawRequest"), str):
        return _unwrap_jotform(body)
    fields = body.get("fields")
    if (
        _is_dict(fields)
        and fields
        and all(
            _is_dict(item) and ("value" in item or "raw_value" in item) for item in fields.values()
        )
    ):
        return _unwrap_elementor(body)
    if _is_dict(body.get("__submission")):
        return _unwrap_fluent(body)
    return _Unwrapped(dict(body))


# --- mapping --------------------------------------------------------------------------------


def _header(headers: Mapping[str, str], name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name:
            return str(value).strip()
    return ""


def _host(url: str) -> str:
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    if parts.scheme not in ("http", "https"):
        return ""
    return (parts.netloc or "").lower()


def redirect_target(controls: Mapping[str, Any], headers: Mapping[str, str]) -> str | None:
    """`_next`/`_redirect`, when the client takes HTML and it stays on the posting page's host."""
    target = next((as_text(controls[key]) for key in REDIRECTS if controls.get(key)), "")
    if not target or "text/html" not in _header(headers, "accept").lower():
        return None
    origin = _header(headers, "origin")
    posting = origin if origin and origin != "null" else _header(headers, "referer")
    target_host = _host(target)
    if not target_host or target_host != _host(posting):
        return None
    return target


def _flatten_name_dict(key: str, value: dict[str, Any], out: dict[str, Any]) -> None:
    """`names: {first_name, last_name}` (Fluent) or `name: {first, last}` (Jotform) as parts.

    A part whose role a posted field already fills stays under `<key>_<part>`.
    """
    for part, item in value.items():
        role = ALIASES.get(canonical(str(part)))
        if role in ("first_name", "last_name", "middle_name") and role not in out:
            out[role] = item
        else:
            keep(out, f"{key}_{part}", item)


def _is_name_dict(key: str, value: Any) -> bool:
    return isinstance(value, dict) and ALIASES.get(canonical(key)) == "name"


def submission_id_from(headers: Mapping[str, str], unwrapped_id: str | None) -> str | None:
    """The retry key: Idempotency-Key, else Framer's header, else the builder's own id."""
    return (
        _namespaced("key", _header(headers, "idempotency-key"))
        or _namespaced("framer", _header(headers, "framer-webhook-submission-id"))
        or unwrapped_id
    )


def normalise(fields: Mapping[str, Any], headers: Mapping[str, str]) -> WebhookSubmission:
    """One delivery's raw fields and headers → the lead to store. Raises EmptySubmission."""
    unwrapped = unwrap(expand_brackets(strip_nul(dict(fields), replace_surrogates=True)))
    flat = {key: value for key, value in unwrapped.fields.items() if not _is_name_dict(key, value)}
    for key, value in unwrapped.fields.items():
        if _is_name_dict(key, value):
            _flatten_name_dict(key, value, flat)

    controls: dict[str, Any] = {}
    found: dict[str, tuple[str, Any]] = {}  # lead field → (posted key, raw value)
    utm: dict[str, str] = {}
    extra: dict[str, Any] = {}
    for key, value in flat.items():
        if key.startswith("_"):
            controls[key.lower()] = value
            continue
        name = canonical(key)
        role = ALIASES.get(name) or unwrapped.typed.get(key)
        if name in PROTECTED:
            keep(extra, key, value)
        elif name == "utm" and isinstance(value, dict):
            repeated: dict[str, Any] = {}  # second spellings of utm fields already filled
            for utm_key, utm_value in value.items():
                utm_name = canonical(str(utm_key))
                utm_name = utm_name if utm_name.startswith("utm_") else f"utm_{utm_name}"
                if not (text := as_text(utm_value)):
                    continue
                if utm_name in utm:
                    repeated[str(utm_key)] = utm_value
                else:
                    utm[utm_name] = text
            if repeated:
                keep(extra, key, repeated)
        elif name == "extra_data" and isinstance(value, dict):
            for extra_key, extra_value in value.items():
                keep(extra, extra_key, extra_value)
        elif name.startswith("utm_"):
            if not (text := as_text(value)):
                continue
            if name in utm:
                keep(extra, key, value)
            else:
                utm[name] = text
        elif role in ("first_name", "last_name", "middle_name"):
            keep(extra, key, value)  # parts are kept; the name is composed below
            if role not in found and as_text(value):
                found[role] = (key, value)
        elif role:
            if not as_text(value):
                continue  # an empty known field: nothing to keep
            if role in found:
                keep(extra, key, value)  # a second spelling of a field already filled
            else:
                found[role] = (key, value)
        else:
            keep(extra, key, value)
    if not any(not key.startswith("_") for key in flat):
        raise EmptySubmission

    def text_of(role: str, limit: int) -> str:
        if role not in found:
            return ""
        key, raw = found[role]
        text = as_text(raw)
        if len(text) > limit or isinstance(raw, dict):
            keep(extra, key, raw)  # kept whole; the column gets what fits
            return text[:limit]
        return text

    name = (
        text_of("name", MAX_NAME)
        or " ".join(
            as_text(found[part][1])
            for part in ("first_name", "middle_name", "last_name")
            if part in found
        )[:MAX_NAME]
    )
    email = text_of("email", MAX_EMAIL)
    if not email:
        email = _email_from_values(extra)
    phone = text_of("phone", MAX_PHONE)

    source = Lead.Source.OTHER
    if "source" in found:
        key, raw = found["source"]
        candidate = canonical(as_text(raw))
        if candidate in Lead.Source.values:
            source = candidate
        else:
            keep(extra, key, raw)

    value = Decimal("0.00")
    if "value" in found:
        key, raw = found["value"]
        parsed = parse_money(raw)
        if parsed is None:
            keep(extra, key, raw)
        else:
            value = parsed

    page_url = as_text(found["page_url"][1]) if "page_url" in found else ""
    page_url = page_url or unwrapped.page_url or _header(headers, "referer")
    if len(page_url) > MAX_PAGE_URL:
        # Kept whole: the posted value itself when the body gave it, else the header's.
        keep(extra, *found.get("page_url", ("page_url", page_url)))
        page_url = ""

    honeypot = any(as_text(controls.get(key)) for key in HONEYPOTS)
    return WebhookSubmission(
        name=name,
        email=email,
        phone=phone,
        source=source,
        value=value,
        page_url=page_url or None,
        utm=utm or None,
        extra_data=extra or None,
        is_spam=honeypot,
        submission_id=submission_id_from(headers, unwrapped.submission_id),
        redirect_to=redirect_target(controls, headers),
    )


def _email_from_values(extra: dict[str, Any]) -> str:
    """The one extra field whose value is a valid address (moved out of extra), else ""."""
    candidates = []
    for key, value in extra.items():
        if isinstance(value, str) and "@" in value and len(value.strip()) <= MAX_EMAIL:
            try:
                validate_email(value.strip())
            except ValidationError:
                continue
            candidates.append(key)
    if len(candidates) != 1:
        return ""
    return extra.pop(candidates[0]).strip()
