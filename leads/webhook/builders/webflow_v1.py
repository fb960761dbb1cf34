"""Webflow's legacy (v1) form webhook: `{name: <form name>, site, data, d, _id}`, the fields in
`data`, `_id` the submission's id (developers.webflow.com/data/v1.0.0/reference/form_submission)."""

from typing import Any

from hushmetrics.text import keep
from leads.webhook.builders import Unwrapped
from leads.webhook.controls import namespaced

# Every top-level member a v1 delivery has; `data` and `_id` are always there.
WEBFLOW_V1_KEYS = frozenset({"name", "site", "data", "d", "_id"})


def unwrap_webflow_v1(body: dict[str, Any]) -> Unwrapped:
    """`data` as the fields; the form's name, site and submission time beside them; `_id` as
    the retry key (the same key space as v2's `payload.id`)."""
    fields = {str(key): value for key, value in body["data"].items()}
    for key, renamed in (("name", "form_name"), ("site", "site_id"), ("d", "submitted_at")):
        if key in body:
            keep(fields, renamed, body[key])
    return Unwrapped(fields, namespaced("webflow", body.get("_id")))
