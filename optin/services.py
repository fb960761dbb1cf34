"""Writes for opt-ins: one partner submission, recorded atomically and exactly once."""

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Model

from hushmetrics.inserts import rows_insert, rows_stamp
from hushmetrics.timestamps import api_timestamp
from leads.models import Lead
from leads.selectors import lead_get_for_email
from leads.services import lead_event_object, lead_rows, lead_touch, lead_update
from optin.models import OptIn, QuestionAnswer
from optin.selectors import optin_get_by_reference
from outbound.models import EventType
from outbound.services import PlannedEvent, event_plan, event_ring
from workspaces.models import ApiKey, Profile, Workspace
from workspaces.selectors import profile_get_active

UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term")
TRAFFIC_FIELDS = (*UTM_FIELDS, "referrer", "landing_page")

# Keyed by the enum's values: a submitted source is the validated string.
LEAD_SOURCE_FOR_OPTIN: dict[str, str] = {
    OptIn.Source.LANDING_PAGE: Lead.Source.WEBSITE,
    OptIn.Source.TYPEFORM: Lead.Source.WEBSITE,
    OptIn.Source.CALENDLY: Lead.Source.WEBSITE,
    OptIn.Source.WEBINAR: Lead.Source.WEBSITE,
    OptIn.Source.NEWSLETTER: Lead.Source.EMAIL,
    OptIn.Source.MANUAL: Lead.Source.OTHER,
    OptIn.Source.OTHER: Lead.Source.OTHER,
}


@dataclass(frozen=True)
class OptInSubmission:
    """What a submission did: the opt-in (new or replayed) and whether it made the lead."""

    opt_in: OptIn
    is_new_lead: bool
    replayed: bool


def optin_submit(
    *,
    api_key: ApiKey,
    email: str,
    first_name: str,
    source: str,
    last_name: str = "",
    phone_e164: str = "",
    phone_country: str = "",
    provider_form_id: str = "",
    provider_form_name: str = "",
    external_reference: str | None = None,
    questions_answers: Sequence[Mapping[str, Any]] = (),
    traffic: Mapping[str, str] | None = None,
) -> OptInSubmission:
    """Record an opt-in for the key's workspace, creating or filling in its lead.

    Inputs are validated by the caller. A reference (+ source) already seen in the workspace
    returns that opt-in and writes nothing. Concurrent submissions are safe: one lock per
    email makes a new email one lead; the unique constraint makes a reference one opt-in.
    Everything is one transaction: an opt-in is stored whole (lead, opt-in, Q&A) or not at
    all.
    """
    workspace = api_key.workspace
    external_reference = external_reference or None
    traffic = {name: (traffic or {}).get(name) or "" for name in TRAFFIC_FIELDS}
    if external_reference:
        # A replay reads and writes nothing else (no transaction, no lock).
        existing = optin_get_by_reference(
            workspace=workspace, source=source, external_reference=external_reference
        )
        if existing is not None:
            return OptInSubmission(opt_in=existing, is_new_lead=False, replayed=True)
    try:
        # A reference that another transaction committed since rolls this whole attempt
        # back (the lead included), so the winner can be read and answered with. Outside a
        # caller's transaction this is the transaction itself: no savepoint round trips.
        with transaction.atomic():
            _lock_email(workspace=workspace, email=email)
            # A setter is named by its Clerk user id in utm_content.
            setter = profile_get_active(workspace=workspace, clerk_user_id=traffic["utm_content"])
            lead, lead_rows_new, lead_event = _lead_for_optin(
                workspace=workspace,
                email=email,
                name=f"{first_name} {last_name}".strip(),
                phone=phone_e164,
                source=LEAD_SOURCE_FOR_OPTIN[source],
                traffic=traffic,
                setter=setter,
            )
            is_new_lead = bool(lead_rows_new)
            opt_in = OptIn(
                workspace=workspace,
                lead=lead,
                api_key=api_key,
                source=source,
                external_reference=external_reference,
                provider_form_id=provider_form_id,
                provider_form_name=provider_form_name,
                first_name=first_name,
                last_name=last_name,
                email=email,
                phone_e164=phone_e164,
                phone_country=phone_country,
                setter=setter,
                is_new_lead=is_new_lead,
                **traffic,
            )
            rows_stamp(opt_in)
            answers = _answers_new(opt_in=opt_in, questions_answers=questions_answers)
            optin_event = event_plan(
                workspace=workspace,
                type=EventType.OPTIN_CREATED,
                payload=lambda: {
                    "opt_in": optin_event_object(opt_in, answers),
                    "lead": lead_event_object(lead),
                },
                is_spam=lead.is_spam,
            )
            # A new lead, the opt-in, its Q&A and the events: one statement (PostgreSQL).
            rows_insert(
                [*lead_rows_new, opt_in, *answers, *(optin_event.rows if optin_event else [])]
            )
            for planned in (lead_event, optin_event):
                if planned is not None:
                    event_ring(planned)
    except IntegrityError:
        if not external_reference:
            raise
        winner = optin_get_by_reference(
            workspace=workspace, source=source, external_reference=external_reference
        )
        if winner is None:
            raise
        return OptInSubmission(opt_in=winner, is_new_lead=False, replayed=True)
    return OptInSubmission(opt_in=opt_in, is_new_lead=is_new_lead, replayed=False)


def _lock_email(*, workspace: Workspace, email: str) -> None:
    """Serialise, until commit, the submissions for one email of one workspace.

    Two first opt-ins for the same new address would otherwise both find no lead and both
    create one. On PostgreSQL a transaction-level advisory lock on a 64-bit hash of
    (workspace, lowercased email) orders them: the second sees the first's committed lead.
    A hash collision only makes two unrelated emails wait for each other. SQLite needs
    nothing: its writers already run one at a time (BEGIN IMMEDIATE, see settings).
    """
    if connection.vendor != "postgresql":
        return
    digest = hashlib.sha256(f"optin-email:{workspace.pk}:{email.lower()}".encode()).digest()
    key = int.from_bytes(digest[:8], "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def _lead_for_optin(
    *,
    workspace: Workspace,
    email: str,
    name: str,
    phone: str,
    source: str,
    traffic: Mapping[str, str],
    setter: Profile | None,
) -> tuple[Lead, list[Model], PlannedEvent | None]:
    """The workspace's lead for `email`, its blank fields filled in (no rows to write); else
    a new lead, not yet written: its rows and its `lead.created` event (`lead_rows`), for the
    caller to write with the opt-in's."""
    utm = {field: traffic[field] for field in UTM_FIELDS if traffic[field]} or None
    page_url = traffic["landing_page"] or None
    lead = lead_get_for_email(workspace=workspace, email=email)
    if lead is None:
        lead = Lead(
            workspace=workspace,
            name=name,
            email=email,
            phone=phone,
            status=Lead.Status.CONTACT,
            source=source,
            setter=setter,
            utm=utm,
            page_url=page_url,
        )
        # Email and Slack hear of this submission once: through optin.created.
        rows, planned = lead_rows(lead, announce_to_people=False)
        return lead, rows, planned

    offered = {"name": name, "phone": phone, "utm": utm, "page_url": page_url}
    blanks: dict[str, Any] = {
        field: value
        for field, value in offered.items()
        if value and getattr(lead, field) in (None, "", {})
    }
    if setter is not None and lead.setter_id is None:
        blanks["setter"] = setter
    if blanks:
        lead_update(lead=lead, data=blanks)
    else:
        # Nothing to fill in, but the lead has new activity: only updated_at moves.
        lead_touch(lead=lead)
    return lead, [], None


def optin_event_object(opt_in: OptIn, answers: Sequence[QuestionAnswer]) -> dict[str, Any]:
    """The opt-in as `optin.created` carries it (SPEC §9); `answers` in position order."""
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


def _answers_new(
    *, opt_in: OptIn, questions_answers: Sequence[Mapping[str, Any]]
) -> list[QuestionAnswer]:
    """The opt-in's Q&A rows in position order (ties keep the order sent), not yet written."""
    ordered = sorted(enumerate(questions_answers), key=lambda pair: (pair[1]["position"], pair[0]))
    return [
        QuestionAnswer(
            opt_in=opt_in,
            question=item["question"],
            answer=item["answer"],
            position=item["position"],
        )
        for _index, item in ordered
    ]
