"""Typeform: `form_response.answers`, one typed answer each, titled by the form's definition;
`hidden` fields, `variables` and the `calculated` score beside them."""

from typing import Any

from hushmetrics.text import keep
from leads.webhook.builders import Unwrapped
from leads.webhook.controls import namespaced
from leads.webhook.helpers import as_dict, canonical
from leads.webhook.vocabulary import ALIASES


def unwrap_typeform(body: dict[str, Any]) -> Unwrapped:
    """Each answer under its ref when that is a known spelling, else its question's title (a
    title used twice keeps both answers, in order); hidden fields under their names; the
    form's variables as one `variables` object (a variable named `name` is the form's, not
    the person's); the calculated score as `score`."""
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
        keep(fields, str(key), value)
        if kind in ("email", "phone_number"):
            typed[str(key)] = "email" if kind == "email" else "phone"
    for key, value in (response.get("hidden") or {}).items():
        keep(fields, str(key), value)
    variables: dict[str, Any] = {}
    for item in response.get("variables") or []:
        if isinstance(item, dict) and item.get("key") is not None:
            keep(variables, str(item["key"]), _variable_value(item))
    if variables:
        keep(fields, "variables", variables)
    calculated = response.get("calculated")
    for key, value in calculated.items() if isinstance(calculated, dict) else ():
        keep(fields, str(key), value)
    if response.get("form_id"):
        keep(fields, "form_id", response["form_id"])
    if definition.get("title"):
        keep(fields, "form_name", definition["title"])
    return Unwrapped(fields, namespaced("typeform", body.get("event_id")), typed=typed)


def _variable_value(item: dict[str, Any]) -> Any:
    """A variable's value, under its type's name (`number`, `text`), else its one other member."""
    kind = str(item.get("type"))
    if kind in item:
        return item[kind]
    rest = [value for key, value in item.items() if key not in ("key", "type")]
    return rest[0] if len(rest) == 1 else rest or None
