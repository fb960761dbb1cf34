"""Elementor (advanced data): `fields[<id>][value]`, `meta[page_url][value]`, `form[name]`."""

import re
from typing import Any

from hushmetrics.text import keep
from leads.webhook.builders import Unwrapped
from leads.webhook.helpers import as_dict, as_text

# Elementor names fields it was not told a name for `field_<hex>`; its title reads better.
ELEMENTOR_AUTO_ID = re.compile(r"^field_[0-9a-f]+$")


def unwrap_elementor(body: dict[str, Any]) -> Unwrapped:
    """Each field's value under its id (its title for an unnamed one), meta and form beside."""
    fields: dict[str, Any] = {}
    for key, item in body["fields"].items():
        title = item.get("title")
        name = title if ELEMENTOR_AUTO_ID.match(str(key)) and title else str(key)
        keep(fields, name, item.get("value", item.get("raw_value")))
    page_url = None
    for key, item in as_dict(body.get("meta")).items():
        value = item.get("value") if isinstance(item, dict) else item
        if key == "page_url":
            page_url = as_text(value) or None
        else:
            keep(fields, str(key), value)
    for key, value in as_dict(body.get("form")).items():
        keep(fields, f"form_{key}", value)
    for key, value in body.items():
        if key != "fields" and not (key in ("meta", "form") and isinstance(value, dict)):
            keep(fields, key, value)
    return Unwrapped(fields, page_url=page_url)
