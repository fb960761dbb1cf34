"""`normalise`: one webhook delivery's raw fields and headers → the lead to store.

Pure functions, no database, no request object: tested with the form builders' real payloads.
Input: the submitted fields (a dict; repeated form keys already a list), the request headers
and the uploaded files' descriptions (name, size, content type: the files themselves are never
kept). Output: a `WebhookSubmission`. The pipeline, in this order, each step a function below:

clean (NULs, lone surrogates) → nest (PHP-style bracket keys) → unwrap (the builders that wrap
their fields, see `builders`) → spread a name given as parts → map the fields (control fields,
`utm_*`, the known lead fields — a field sent more than once gives its first answer and
keeps them all in extra_data —, everything else to extra_data) → name, email and phone cut to
their columns → email fallback (the one address among the other fields) → source and value →
page URL → the files' descriptions → spam, retry key and redirect (`controls`).
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from hushmetrics.text import keep, strip_nul
from leads.models import Lead
from leads.webhook.builders import unwrap
from leads.webhook.controls import (
    body_fingerprint,
    header,
    honeypot_filled,
    is_control,
    redirect_target,
    submission_id_from,
)
from leads.webhook.helpers import as_text, canonical, expand_brackets, parse_money
from leads.webhook.vocabulary import (
    ALIASES,
    CF7_SPECIAL_TAGS,
    MAX_EMAIL,
    MAX_NAME,
    MAX_PAGE_URL,
    MAX_PHONE,
    NAME_PARTS,
    PROTECTED,
    ZERO,
)

T = TypeVar("T")


class EmptySubmission(Exception):
    """The body carries no field at all (control fields do not count)."""


@dataclass(frozen=True)
class WebhookSubmission:
    """The lead fields one webhook delivery yields."""

    name: str = ""
    email: str = ""
    phone: str = ""
    source: str = Lead.Source.OTHER
    value: Decimal = ZERO
    page_url: str | None = None
    utm: dict[str, str] | None = None
    extra_data: dict[str, Any] | None = None
    is_spam: bool = False
    submission_id: str | None = None
    # With a submission id: the body's fingerprint, kept with it to tell a retry (the same
    # body) from another submission reusing the id.
    fingerprint: str | None = None
    redirect_to: str | None = None


@dataclass
class _Mapped:
    """A delivery's fields, each where it goes."""

    controls: dict[str, Any] = field(default_factory=dict)  # `_…` fields, lower-cased
    found: dict[str, tuple[str, Any]] = field(default_factory=dict)  # field → (key, raw value)
    utm: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    # Keys whose every answer is already in extra (a field sent more than once).
    listed: set[str] = field(default_factory=set)

    def keep_raw(self, key: str, raw: Any) -> None:
        """Keep a lead field's raw value in extra_data, unless all its answers already are."""
        if key not in self.listed:
            keep(self.extra, key, raw)


def normalise(
    fields: Mapping[str, Any],
    headers: Mapping[str, str],
    files: Mapping[str, Any] | None = None,
) -> WebhookSubmission:
    """One delivery's raw fields, headers and uploaded files' descriptions → the lead to
    store. Raises EmptySubmission."""
    unwrapped = unwrap(expand_brackets(strip_nul(dict(fields), replace_surrogates=True)))
    flat = _spread_name_parts(unwrapped.fields)
    if all(is_control(key) for key in flat) and not files:
        raise EmptySubmission
    mapped = _map_fields(flat, unwrapped.typed)
    # In this order: each step may keep a raw value in extra_data, and the email fallback
    # looks there.
    name = _name(mapped)
    email = _column_text(mapped, "email", MAX_EMAIL) or _email_from_values(mapped.extra)
    phone = _column_text(mapped, "phone", MAX_PHONE)
    source = _parsed(mapped, "source", _lead_source, Lead.Source.OTHER.value)
    value = _parsed(mapped, "value", parse_money, ZERO)
    page_url = _page_url(mapped, unwrapped.page_url, headers)
    # Beside the fields, never read as one: a file named `email` is not an address.
    for key, described in strip_nul(dict(files or {}), replace_surrogates=True).items():
        keep(mapped.extra, key, described)
    submission_id = submission_id_from(headers, unwrapped.submission_id)
    return WebhookSubmission(
        name=name,
        email=email,
        phone=phone,
        source=source,
        value=value,
        page_url=page_url or None,
        utm=mapped.utm or None,
        extra_data=mapped.extra or None,
        is_spam=honeypot_filled(mapped.controls),
        submission_id=submission_id,
        fingerprint=body_fingerprint(fields, files) if submission_id else None,
        redirect_to=redirect_target(mapped.controls, headers),
    )


def _is_name_dict(key: str, value: Any) -> bool:
    return isinstance(value, dict) and ALIASES.get(canonical(key)) == "name"


def _spread_name_parts(fields: dict[str, Any]) -> dict[str, Any]:
    """`names: {first_name, last_name}` (Fluent) or `name: {first, last}` (Jotform) as parts.

    A part whose role a posted field already fills stays under `<key>_<part>`.
    """
    flat = {key: value for key, value in fields.items() if not _is_name_dict(key, value)}
    for key, value in fields.items():
        if not _is_name_dict(key, value):
            continue
        for part, item in value.items():
            role = ALIASES.get(canonical(str(part)))
            if role in NAME_PARTS and role not in flat:
                flat[role] = item
            else:
                keep(flat, f"{key}_{part}", item)
    return flat


def _map_fields(flat: dict[str, Any], typed: dict[str, str]) -> _Mapped:
    """Each field to where it goes; the first non-empty spelling of a lead field fills it."""
    fields = _Mapped()
    for key, value in flat.items():
        if is_control(key):
            fields.controls[key.lower()] = value
            continue
        name = canonical(key)
        if key.lower() in CF7_SPECIAL_TAGS:
            role = CF7_SPECIAL_TAGS[key.lower()]
        else:
            role = ALIASES.get(name) or typed.get(key)
        if name in PROTECTED:
            keep(fields.extra, key, value)
        elif name == "utm" and isinstance(value, dict):
            _map_utm_dict(fields, key, value)
        elif name == "extra_data" and isinstance(value, dict):
            for extra_key, extra_value in value.items():
                keep(fields.extra, extra_key, extra_value)
        elif name.startswith("utm_"):
            if (text := as_text(value)) and not _add_utm(fields, name, text):
                keep(fields.extra, key, value)
        elif role in NAME_PARTS:
            keep(fields.extra, key, value)  # parts are kept; the name is composed of them
            first = _first_answer(value)
            if role not in fields.found and first is not None:
                fields.found[role] = (key, first)
        elif role:
            first = _first_answer(value)
            if first is None:
                continue  # an empty known field: nothing to keep
            if role in fields.found:
                keep(fields.extra, key, value)  # a second spelling of a field already filled
            else:
                fields.found[role] = (key, first)
                if isinstance(value, list):  # sent more than once: every answer is kept
                    keep(fields.extra, key, value)
                    fields.listed.add(key)
        else:
            keep(fields.extra, key, value)
    return fields


def _first_answer(value: Any) -> Any:
    """The first non-empty answer of a field sent more than once (a list), else the value;
    None when there is none."""
    for item in value if isinstance(value, list) else [value]:
        if as_text(item):
            return item
    return None


def _add_utm(fields: _Mapped, name: str, text: str) -> bool:
    """Fill `name` in utm; False when another spelling already filled it."""
    if name in fields.utm:
        return False
    fields.utm[name] = text
    return True


def _map_utm_dict(fields: _Mapped, key: str, value: dict[str, Any]) -> None:
    """`utm: {source: …}` or `utm: {utm_source: …}` into utm; second spellings of a filled
    one stay in extra_data under `key`."""
    repeated: dict[str, Any] = {}
    for utm_key, utm_value in value.items():
        utm_name = canonical(str(utm_key))
        utm_name = utm_name if utm_name.startswith("utm_") else f"utm_{utm_name}"
        if (text := as_text(utm_value)) and not _add_utm(fields, utm_name, text):
            repeated[str(utm_key)] = utm_value
    if repeated:
        keep(fields.extra, key, repeated)


def _column_text(fields: _Mapped, role: str, limit: int) -> str:
    """The text that fills `role`, cut to its column; a cut or non-text value is also kept
    whole in extra_data."""
    if role not in fields.found:
        return ""
    key, raw = fields.found[role]
    text = as_text(raw)
    if len(text) > limit or isinstance(raw, dict):
        fields.keep_raw(key, raw)  # kept whole; the column gets what fits
        return text[:limit]
    return text


def _name(fields: _Mapped) -> str:
    """The posted name, else the name composed of its posted parts."""
    return (
        _column_text(fields, "name", MAX_NAME)
        or " ".join(as_text(fields.found[part][1]) for part in NAME_PARTS if part in fields.found)[
            :MAX_NAME
        ]
    )


def _email_from_values(extra: dict[str, Any]) -> str:
    """The one extra field whose value is a valid address (moved out of extra), else "".
    A `_…` field is a form's setting, not the visitor's (Formspree's `_cc`, Contact Form 7's
    `_site_admin_email`): kept, never taken for the lead's address."""
    candidates = []
    for key, value in extra.items():
        if key.startswith("_"):
            continue
        if isinstance(value, str) and "@" in value and len(value.strip()) <= MAX_EMAIL:
            try:
                validate_email(value.strip())
            except ValidationError:
                continue
            candidates.append(key)
    if len(candidates) != 1:
        return ""
    address: str = extra.pop(candidates[0])
    return address.strip()


def _lead_source(raw: Any) -> str | None:
    candidate = canonical(as_text(raw))
    return candidate if candidate in Lead.Source.values else None


def _parsed(fields: _Mapped, role: str, parse: Callable[[Any], T | None], default: T) -> T:
    """`role`'s value as `parse` reads it; one it cannot read is kept in extra_data."""
    if role not in fields.found:
        return default
    key, raw = fields.found[role]
    parsed = parse(raw)
    if parsed is None:
        fields.keep_raw(key, raw)
        return default
    return parsed


def _page_url(fields: _Mapped, builder_url: str | None, headers: Mapping[str, str]) -> str:
    """The posted page URL, else the builder's, else the Referer; "" when it is too long for
    its column (then kept whole in extra_data)."""
    page_url = as_text(fields.found["page_url"][1]) if "page_url" in fields.found else ""
    page_url = page_url or builder_url or header(headers, "referer")
    if len(page_url) > MAX_PAGE_URL:
        # Kept whole: the posted value itself when the body gave it, else the header's.
        fields.keep_raw(*fields.found.get("page_url", ("page_url", page_url)))
        return ""
    return page_url
