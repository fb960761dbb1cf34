"""The opt-in part of a lead's detail answer (GET /v1/leads/{id}, SPEC §10), registered with
the lead API in OptinConfig.ready: the lead app never imports this one."""

from collections.abc import Sequence
from typing import Any

from hushmetrics.timestamps import api_timestamp
from leads.models import Lead
from optin.models import OptIn, QuestionAnswer
from optin.selectors import optin_list_for_lead

TRAFFIC_FIELDS = (
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_content",
    "utm_term",
    "referrer",
    "landing_page",
)


def opt_in_output(opt_in: OptIn, answers: Sequence[QuestionAnswer]) -> dict[str, Any]:
    """The opt-in object of the `optin.created` event (SPEC §9); `answers` in position order."""
    return {
        "id": str(opt_in.id),
        "source": str(opt_in.source),
        "external_reference": opt_in.external_reference,
        "provider_form_id": opt_in.provider_form_id,
        "provider_form_name": opt_in.provider_form_name,
        "first_name": opt_in.first_name,
        "last_name": opt_in.last_name,
        "email": opt_in.email,
        "phone_e164": opt_in.phone_e164,
        "phone_country": opt_in.phone_country,
        "traffic": {field: getattr(opt_in, field) for field in TRAFFIC_FIELDS},
        "questions_answers": [
            {"question": qa.question, "answer": qa.answer, "position": qa.position}
            for qa in answers
        ],
        "setter": str(opt_in.setter_id) if opt_in.setter_id else None,
        "is_new_lead": opt_in.is_new_lead,
        "created_at": api_timestamp(opt_in.created_at),
    }


def lead_opt_ins(lead: Lead) -> list[dict[str, Any]]:
    """The lead's opt-ins, newest first, as `opt_ins` in its detail answer."""
    return [
        opt_in_output(opt_in, list(opt_in.answers.all()))
        for opt_in in optin_list_for_lead(lead=lead)
    ]
