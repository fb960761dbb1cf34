"""The form builders that wrap their fields, one module each, and `unwrap`, which tells them
apart by the body's shape.

A new builder: its module `<builder>.py` with an `unwrap_<builder>`, a shape check in `unwrap`
below (before the shapes it could be mistaken for), and its samples in
`leads/tests/fixtures/form-builders/`, each naming it (`"builder": "<builder>"`) and listing the
`bookkeeping` paths it reads rather than stores: the tests pick them up from there.

Every unwrapper puts a field under a name with `hushmetrics.text.keep`, never `fields[k] = v`:
a name used twice (two questions titled alike) keeps both answers, in order, as a list.
"""

from dataclasses import dataclass, field
from typing import Any, TypeGuard


@dataclass
class Unwrapped:
    """A builder's fields as one flat dict, with what the builder says beside them."""

    fields: dict[str, Any]
    submission_id: str | None = None  # already namespaced, e.g. "tally:<eventId>"
    page_url: str | None = None  # the builder's own page URL, below a body field
    typed: dict[str, str] = field(default_factory=dict)  # key → lead field, from answer types


# After `Unwrapped`, which each builder module imports from here.
from leads.webhook.builders.elementor import unwrap_elementor  # noqa: E402
from leads.webhook.builders.fluent_forms import unwrap_fluent_forms  # noqa: E402
from leads.webhook.builders.hubspot import unwrap_hubspot  # noqa: E402
from leads.webhook.builders.jotform import unwrap_jotform  # noqa: E402
from leads.webhook.builders.tally import unwrap_tally  # noqa: E402
from leads.webhook.builders.typeform import unwrap_typeform  # noqa: E402
from leads.webhook.builders.webflow import unwrap_webflow  # noqa: E402
from leads.webhook.builders.webflow_v1 import WEBFLOW_V1_KEYS, unwrap_webflow_v1  # noqa: E402


def _is_dict(value: Any) -> TypeGuard[dict[str, Any]]:
    return isinstance(value, dict)


def unwrap(body: dict[str, Any]) -> Unwrapped:
    """The builder's fields as one flat dict, with its submission id and page URL if any."""
    response = body.get("form_response")
    answers = response.get("answers") if _is_dict(response) else None
    if _is_dict(response) and (
        (isinstance(answers, list) and answers and all(_is_dict(item) for item in answers))
        or body.get("event_type") == "form_response"
    ):
        return unwrap_typeform(body)
    data = body.get("data")
    if _is_dict(data) and isinstance(data.get("fields"), list) and "eventId" in body:
        return unwrap_tally(body)
    payload = body.get("payload")
    if _is_dict(payload) and _is_dict(payload.get("data")):
        return unwrap_webflow(body)
    if _is_dict(data) and "_id" in body and set(body) <= WEBFLOW_V1_KEYS:
        return unwrap_webflow_v1(body)
    if isinstance(body.get("rawRequest"), str):
        return unwrap_jotform(body)
    fields = body.get("fields")
    if (
        isinstance(fields, list)
        and fields
        and all(_is_dict(item) and "name" in item and "value" in item for item in fields)
    ):
        return unwrap_hubspot(body)
    if (
        _is_dict(fields)
        and fields
        and all(
            _is_dict(item) and ("value" in item or "raw_value" in item) for item in fields.values()
        )
    ):
        return unwrap_elementor(body)
    if _is_dict(body.get("__submission")):
        return unwrap_fluent_forms(body)
    return Unwrapped(dict(body))
