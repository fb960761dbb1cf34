"""Typeform: `form_response.answers`, one typed answer each, titled by the form's definition."""

from typing import Any

from hushmetrics.text import keep
from leads.webhook.builders import Unwrapped
from leads.webhook.controls import namespaced
from leads.webhook.helpers import as_dict, canonical
from leads.webhook.vocabulary import ALIASES


def unwrap_typeform(body: dict[str, Any]) -> Unwrapped:
    """Each answer under its ref when that is a known spelling, else its question's title."""
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
        meta = as_dict(answer.get("field"))
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
    return Unwrapped(fields, namespaced("typeform", body.get("event_id")), typed=typed)
