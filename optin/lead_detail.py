"""The opt-in part of a lead's detail answer (GET /v1/leads/{id}, SPEC §10), registered with
the lead API in OptinConfig.ready: the lead app never imports this one."""

from typing import Any

from leads.models import Lead
from optin.selectors import optin_list_for_lead
from optin.services import optin_event_object


def lead_opt_ins(lead: Lead) -> list[dict[str, Any]]:
    """The lead's opt-ins, newest first, as `opt_ins` in its detail answer."""
    return [
        optin_event_object(opt_in, list(opt_in.answers.all()))
        for opt_in in optin_list_for_lead(lead=lead)
    ]
