"""Webflow: the form's fields in `payload.data`, the form's name and ids beside them."""

from typing import Any

from hushmetrics.text import keep
from leads.webhook.builders import Unwrapped
from leads.webhook.controls import namespaced


def unwrap_webflow(body: dict[str, Any]) -> Unwrapped:
    """`payload.data` as the fields, with the form's name and id."""
    payload = body["payload"]
    fields = {str(key): value for key, value in payload["data"].items()}
    for key, value in body.items():
        if key not in ("triggerType", "payload"):
            keep(fields, key, value)
    if payload.get("name"):
        keep(fields, "form_name", payload["name"])
    if payload.get("formId"):
        keep(fields, "form_id", payload["formId"])
    return Unwrapped(fields, namespaced("webflow", payload.get("id")))
