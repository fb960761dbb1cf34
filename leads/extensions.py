"""What other apps add to a lead's detail answer (GET /v1/leads/{id}).

Dependencies point optin → leads (STYLE.md): the lead app never imports the opt-in app, so
the opt-in app registers its part of the answer here (in its AppConfig.ready) and the lead
API renders whatever is registered, under the registered name.
"""

from collections.abc import Callable
from typing import Any

from leads.models import Lead

LeadPart = Callable[[Lead], Any]

_parts: dict[str, LeadPart] = {}


def lead_detail_part_register(*, name: str, reader: LeadPart) -> None:
    """Add `name` to every lead's detail answer: `reader(lead)`, which must be JSON-ready."""
    _parts[name] = reader


def lead_detail_parts(*, lead: Lead) -> dict[str, Any]:
    """Every registered part of `lead`'s detail answer, by name."""
    return {name: reader(lead) for name, reader in _parts.items()}
