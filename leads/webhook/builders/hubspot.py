"""HubSpot's form-submission shape, which other tools copy: `fields: [{name, value}]` with a
`context` of the page (`pageUri`, `pageName`) beside it
(developers.hubspot.com/docs/api-reference/legacy/marketing/forms/v3-legacy/submit-data-unauthenticated)."""

from typing import Any

from hushmetrics.text import keep
from leads.webhook.builders import Unwrapped
from leads.webhook.helpers import as_text


def unwrap_hubspot(body: dict[str, Any]) -> Unwrapped:
    """Each field's value under its name (a name sent twice keeps both, in order); the context's
    page as the page URL and its other members beside the fields, as the body's other ones."""
    fields: dict[str, Any] = {}
    for item in body["fields"]:
        keep(fields, str(item["name"]), item.get("value"))
    given = body.get("context")
    context: dict[str, Any] = given if isinstance(given, dict) else {}
    page_url = as_text(context.get("pageUri")) or None
    for key, value in context.items():
        if key != "pageUri" or not page_url:
            keep(fields, str(key), value)
    for key, value in body.items():
        if key != "fields" and not (key == "context" and isinstance(value, dict)):
            keep(fields, key, value)
    return Unwrapped(fields, page_url=page_url)
