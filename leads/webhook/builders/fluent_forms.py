"""Fluent Forms: the fields at the top, the submission's bookkeeping in `__submission`."""

from typing import Any

from hushmetrics.text import keep
from leads.webhook.builders import Unwrapped
from leads.webhook.helpers import as_text


def unwrap_fluent_forms(body: dict[str, Any]) -> Unwrapped:
    """The top-level fields, with the form id and the page the form was sent from."""
    submission = body["__submission"]
    fields = {key: value for key, value in body.items() if key != "__submission"}
    if submission.get("form_id") is not None:
        keep(fields, "form_id", submission["form_id"])
    return Unwrapped(fields, page_url=as_text(submission.get("source_url")) or None)
