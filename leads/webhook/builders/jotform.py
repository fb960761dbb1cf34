"""Jotform: the answers as JSON text in `rawRequest`, keyed `q<n>_<name>`."""

import json
import re
from typing import Any

from hushmetrics.text import keep
from leads.webhook.builders import Unwrapped
from leads.webhook.controls import namespaced

JOTFORM_KEY = re.compile(r"^q\d+_(.+)$")


def unwrap_jotform(body: dict[str, Any]) -> Unwrapped:
    """The answers of `rawRequest` under their names, beside the body's other fields."""
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
    return Unwrapped(fields, namespaced("jotform", body.get("submissionID")))
