"""Jotform: the answers as JSON text in `rawRequest`, keyed `q<n>_<name>`; a file answer under
its bare `<name>` (its URLs), named in `temp_upload` as `q<n>_<name>`."""

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
    answers = _answers(raw) if isinstance(raw, dict) else []
    # `pretty` repeats the answers: both it and rawRequest go once the answers are read, and
    # are kept when they cannot be, rather than lose the submission.
    consumed = ("rawRequest", "pretty", "submissionID") if answers else ("submissionID",)
    fields = {key: value for key, value in body.items() if key not in consumed}
    for key, value in answers:
        keep(fields, key, value)
    return Unwrapped(fields, namespaced("jotform", body.get("submissionID")))


def _answers(raw: dict[str, Any]) -> list[tuple[str, Any]]:
    """(name, answer) in rawRequest's order: q3_name → name; an upload's URLs under its bare
    name. The rest of rawRequest (slug, buildDate, temp_upload, …) is Jotform's bookkeeping."""
    temp_upload = raw.get("temp_upload")
    uploads: dict[str, Any] = temp_upload if isinstance(temp_upload, dict) else {}
    uploaded = {
        match.group(1): value
        for key, value in uploads.items()
        if (match := JOTFORM_KEY.match(str(key)))
    }
    answers = []
    for key, value in raw.items():
        if match := JOTFORM_KEY.match(str(key)):
            answers.append((match.group(1), value))
        elif key in uploaded:
            answers.append((str(key), value))
    # An upload without its URLs under the bare name: its stored file names, rather than nothing.
    answers += [(name, value) for name, value in uploaded.items() if name not in raw]
    return answers
