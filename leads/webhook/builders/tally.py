"""Tally: `data.fields`, a list of labelled, typed fields; choices as option ids."""

from typing import Any

from hushmetrics.text import keep
from leads.webhook.builders import Unwrapped
from leads.webhook.controls import namespaced


def unwrap_tally(body: dict[str, Any]) -> Unwrapped:
    """Each field under its label (else its key), choices as their option's text; a label
    used twice keeps both answers, in order."""
    data = body["data"]
    fields: dict[str, Any] = {}
    typed: dict[str, str] = {}
    for item in data.get("fields") or []:
        if not isinstance(item, dict):
            continue
        key = str(item.get("label") or item.get("key") or "")
        if not key:
            continue
        keep(fields, key, _value(item))
        if item.get("type") == "INPUT_EMAIL":
            typed[key] = "email"
        elif item.get("type") == "INPUT_PHONE_NUMBER":
            typed[key] = "phone"
    if data.get("formId"):
        keep(fields, "form_id", data["formId"])
    if data.get("formName"):
        keep(fields, "form_name", data["formName"])
    return Unwrapped(fields, namespaced("tally", body.get("eventId")), typed=typed)


def _value(item: dict[str, Any]) -> Any:
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
