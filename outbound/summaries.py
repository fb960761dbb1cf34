"""An event as people read it (SPEC §9, email and Slack): a subject, the lead's fields, its
message and other form fields as labelled lines, the UTM values, an opt-in's Q&A, and a link
to the back office.

Pure functions over the event's payload (outbound knows nothing of leads or opt-ins beyond
the JSON they hand it). Values are plain text here; each channel escapes them for itself
(HTML autoescaping, Slack's mrkdwn). Text that goes into a header or a one-line title is
flattened first (`one_line`): no CR, LF or other control character survives into it.
"""

import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.urls import reverse

from outbound.models import EventType

SUBJECT_MAX = 150
# Who a subject names, and its source: short enough that `(source)` always fits the subject.
WHO_MAX = 100
SOURCE_MAX = 30
VALUE_MAX = 10_000
EXTRAS_MAX = 200
# Spellings of a form's message field, as leads.webhook.vocabulary's "message" role has
# them (outbound may not import leads; a test keeps the two lists equal).
MESSAGE_KEYS = frozenset(
    {
        "message", "your_message", "comments", "comment", "enquiry", "inquiry",
        "mensaje", "tu_mensaje", "comentario", "comentarios", "consulta",
        "mensagem", "sua_mensagem",
        "votre_message", "commentaire", "commentaires",
        "nachricht", "ihre_nachricht", "mitteilung", "kommentar",
        "messaggio", "il_tuo_messaggio", "commento", "commenti",
    }
)  # fmt: skip
_NON_WORD = re.compile(r"[\W_]+")
_BIDI_CONTROLS = {chr(c) for c in [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]}


def one_line(value: object, *, limit: int = SUBJECT_MAX) -> str:
    """`value` as one line: control characters and line or paragraph separators (CR, LF,
    U+2028…) become spaces, bidi overrides go, runs of spaces become one; cut at `limit`."""
    chars = []
    for char in str(value):
        if char in _BIDI_CONTROLS:
            continue
        category = unicodedata.category(char)
        chars.append(" " if category == "Cc" or category.startswith("Z") else char)
    text = " ".join("".join(chars).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def valid_email(value: object) -> str:
    """`value` if it is one valid email address (fit for Reply-To or mailto:), else ""."""
    if not isinstance(value, str) or not value or one_line(value, limit=320) != value:
        return ""
    try:
        validate_email(value)
    except ValidationError:
        return ""
    return value


def web_link(value: object) -> str:
    """`value` if it is an http(s) URL a reader may click, else ""."""
    if not isinstance(value, str) or one_line(value, limit=2048) != value:
        return ""
    try:
        parts = urlsplit(value)
    except ValueError:
        return ""
    return value if parts.scheme in ("http", "https") and parts.netloc else ""


def _canonical(key: str) -> str:
    decomposed = unicodedata.normalize("NFKD", key.casefold())
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return _NON_WORD.sub("_", bare).strip("_")


def is_message_key(key: str) -> bool:
    return _canonical(key) in MESSAGE_KEYS


def label_of(key: str) -> str:
    """A form field's name as a label: `company_size` → `Company size`; a name that is
    already words (`How did you hear of us?`) stays as it is."""
    text = one_line(key, limit=100)
    if re.fullmatch(r"[a-z0-9_\-]+", text):
        text = " ".join(part for part in re.split(r"[_\-]+", text) if part)
    return (text[:1].upper() + text[1:]) or "(no name)"


def text_of(value: Any) -> str:
    """A JSON value as text: lists joined, an uploaded file described, objects as JSON."""
    if value is None:
        text = ""
    elif isinstance(value, bool):
        text = "yes" if value else "no"
    elif isinstance(value, str):
        text = value
    elif isinstance(value, int | float):
        text = str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
    elif isinstance(value, list):
        text = ", ".join(part for item in value if (part := text_of(item)))
    elif isinstance(value, dict) and {"name", "size", "content_type"} <= value.keys():
        text = f"{value['name']} ({value['size']} bytes, {value['content_type']}; file not kept)"
    else:
        text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= VALUE_MAX else text[: VALUE_MAX - 1] + "…"


def money(value: Any) -> str:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return text_of(value)
    return f"{amount:,.2f}"


def when(value: Any) -> str:
    """An ISO 8601 timestamp of the payload as `2026-03-09 12:00 UTC`."""
    if not isinstance(value, str):
        return ""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return value
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return f"{parsed.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def member(document: Mapping[str, Any], key: str) -> dict[str, Any]:
    """`document[key]` when it is a JSON object, else an empty one."""
    value = document.get(key)
    return value if isinstance(value, dict) else {}


def absolute(path: str) -> str:
    return f"{settings.PUBLIC_BASE_URL}{path}"


def lead_admin_url(lead_id: str) -> str:
    return absolute(reverse("admin:leads_lead_change", args=[lead_id]))


def destination_admin_url(destination_id: str) -> str:
    return absolute(reverse("admin:outbound_destination_change", args=[destination_id]))


@dataclass(frozen=True)
class Line:
    """A labelled value. `href`: a safe link for it (http(s) or mailto); `long`: keep its
    line breaks (a message); `code`: a command to copy, shown in a fixed-width font."""

    label: str
    value: str
    href: str = ""
    long: bool = False
    code: bool = False


def line(label: str, value: str, *, href: str = "", long: bool = False, code: bool = False) -> Line:
    """A Line whose label, and value unless `long`, are flattened to one line each (a CR or
    LF in a name starts no line of its own that could pass for another field)."""
    label = one_line(label, limit=200) or "(no name)"
    value = value if long else one_line(value, limit=VALUE_MAX)
    return Line(label, value, href=href, long=long, code=code)


@dataclass(frozen=True)
class Section:
    title: str
    lines: list[Line]
    note: str = ""


@dataclass(frozen=True)
class LeadView:
    """The lead of a payload, as it is shown."""

    id: str
    name: str
    email: str
    phone: str
    status: str
    source: str
    value: str
    message: str
    is_spam: bool
    fields: list[Line]
    extras: list[Line]
    utm: list[Line]

    @property
    def who(self) -> str:
        """Name, else email, else phone: who this is, on one line."""
        return one_line(self.name or self.email or self.phone or "no name given", limit=WHO_MAX)


def lead_view(lead: Mapping[str, Any]) -> LeadView:
    name, email, phone = (text_of(lead.get(key)) for key in ("name", "email", "phone"))
    status, source = text_of(lead.get("status")), text_of(lead.get("source"))
    value = money(lead.get("value", 0))
    page = text_of(lead.get("page_url"))
    extra, utm = member(lead, "extra_data"), member(lead, "utm")
    message_keys = [key for key in extra if is_message_key(key)]
    # The message first, then every other field in the order the form sent them.
    ordered = message_keys + [key for key in extra if key not in message_keys]
    extras = [
        line(label_of(key), text_of(extra[key]), long=key in message_keys)
        for key in ordered[:EXTRAS_MAX]
    ]
    if len(ordered) > EXTRAS_MAX:
        extras.append(line("…", f"and {len(ordered) - EXTRAS_MAX} more fields"))
    message = "\n\n".join(text_of(extra[key]) for key in message_keys if text_of(extra[key]))
    fields = [
        line("Name", name),
        line("Email", email, href=f"mailto:{email}" if valid_email(email) else ""),
        line("Phone", phone),
        line("Status", status),
        line("Source", source),
        line("Value", value),
        line("Page", page, href=web_link(page)),
        line("Received", when(lead.get("created_at"))),
    ]
    if lead.get("created_by"):
        fields.append(line("Created by (profile)", text_of(lead["created_by"])))
    if lead.get("is_spam"):
        fields.append(line("Spam", "yes: the spam checks caught it"))
    fields.append(line("Lead id", text_of(lead.get("id"))))
    return LeadView(
        id=text_of(lead.get("id")),
        name=name,
        email=email,
        phone=phone,
        status=status,
        source=source,
        value=value,
        message=message,
        is_spam=bool(lead.get("is_spam")),
        fields=fields,
        extras=extras,
        utm=[line(one_line(key, limit=100), text_of(value)) for key, value in utm.items()],
    )


@dataclass(frozen=True)
class Summary:
    """One event, ready for a channel: `subject` is one line; `sections` in reading order."""

    subject: str
    heading: str
    title: str
    intro: str
    sections: list[Section] = field(default_factory=list)
    link_label: str = ""
    link_url: str = ""
    lead: LeadView | None = None
    qa: list[Line] = field(default_factory=list)
    reply_to: str = ""
    alert: bool = False  # something is wrong (a destination disabled): shown in red


def _lead_sections(lead: LeadView) -> list[Section]:
    sections = [Section("Lead", lead.fields)]
    if lead.extras:
        sections.append(Section("Form fields", lead.extras))
    if lead.utm:
        sections.append(Section("UTM", lead.utm))
    return sections


def _optin_lines(opt_in: Mapping[str, Any]) -> tuple[list[Line], list[Line], list[Line]]:
    """The opt-in's own fields, its traffic and its Q&A."""
    name = " ".join(text_of(opt_in.get(k)) for k in ("first_name", "last_name")).strip()
    email = text_of(opt_in.get("email"))
    fields = [
        line("Name", name),
        line("Email", email, href=f"mailto:{email}" if valid_email(email) else ""),
        line("Phone", text_of(opt_in.get("phone_e164"))),
        line("Country", text_of(opt_in.get("phone_country"))),
        line("Source", text_of(opt_in.get("source"))),
        line("Form", text_of(opt_in.get("provider_form_name"))),
        line("Form id", text_of(opt_in.get("provider_form_id"))),
        line("Reference", text_of(opt_in.get("external_reference"))),
        line("Lead", "new lead" if opt_in.get("is_new_lead") else "an existing lead"),
        line("Received", when(opt_in.get("created_at"))),
    ]
    traffic = member(opt_in, "traffic")
    traffic_lines = [
        line(one_line(key, limit=100), text_of(value), href=web_link(value))
        for key, value in traffic.items()
        if text_of(value)
    ]
    answers = opt_in.get("questions_answers")
    qa = [
        line(text_of(item.get("question")), text_of(item.get("answer")), long=True)
        for item in (answers if isinstance(answers, list) else [])
        if isinstance(item, dict)
    ]
    return [line for line in fields if line.value], traffic_lines, qa


def summarize(event_type: str, payload: Mapping[str, Any]) -> Summary:
    """The event of `event_type` with `payload` (its `data`) as people read it."""
    lead = lead_view(member(payload, "lead")) if member(payload, "lead") else None
    reply_to = valid_email(lead.email) if lead is not None else ""
    link_url = lead_admin_url(lead.id) if lead is not None and lead.id else ""
    link_label = "Open the lead" if link_url else ""
    if event_type == EventType.LEAD_CREATED and lead is not None:
        return Summary(
            subject=one_line(f"New lead: {lead.who} ({one_line(lead.source, limit=SOURCE_MAX)})"),
            heading="New lead",
            title=lead.who,
            intro=f"A new lead came in (source: {lead.source})." if lead.source else "",
            sections=_lead_sections(lead),
            lead=lead,
            reply_to=reply_to,
            link_label=link_label,
            link_url=link_url,
        )
    if event_type == EventType.OPTIN_CREATED and lead is not None:
        opt_in = member(payload, "opt_in")
        fields, traffic, qa = _optin_lines(opt_in)
        name = " ".join(text_of(opt_in.get(k)) for k in ("first_name", "last_name")).strip()
        who = one_line(name or text_of(opt_in.get("email")) or lead.who, limit=WHO_MAX)
        source = one_line(text_of(opt_in.get("source")), limit=SOURCE_MAX)
        sections = [Section("Opt-in", fields)]
        if qa:
            sections.append(Section("Questions and answers", qa))
        if traffic:
            sections.append(Section("Traffic", traffic))
        sections += _lead_sections(lead)
        return Summary(
            subject=one_line(f"New opt-in: {who} ({source})"),
            heading="New opt-in",
            title=who,
            intro=f"A new opt-in came in (source: {source or 'not given'}), "
            + ("and made a new lead." if opt_in.get("is_new_lead") else "for a lead you have."),
            sections=sections,
            lead=lead,
            qa=qa,
            reply_to=reply_to,
            link_label=link_label,
            link_url=link_url,
        )
    if event_type == EventType.LEAD_UPDATED and lead is not None:
        changed = payload.get("changed_fields")
        names = ", ".join(text_of(name) for name in changed) if isinstance(changed, list) else ""
        return Summary(
            subject=one_line(f"Lead updated: {lead.who} ({names or 'no field named'})"),
            heading="Lead updated",
            title=lead.who,
            intro=f"Changed: {names}." if names else "The lead was edited.",
            sections=_lead_sections(lead),
            lead=lead,
            reply_to=reply_to,
            link_label=link_label,
            link_url=link_url,
        )
    if event_type == EventType.DESTINATION_TEST:
        return _test_summary(payload)
    if event_type == EventType.DESTINATION_DISABLED:
        return _disabled_summary(payload)
    return Summary(
        subject=one_line(f"Hushmetrics: {event_type}"),
        heading=one_line(event_type),
        title="An event",
        intro="",
        sections=[
            Section("Data", [line(label_of(key), text_of(value)) for key, value in payload.items()])
        ],
    )


def _destination_lines(destination: Mapping[str, Any]) -> list[Line]:
    lines = [
        line("Kind", text_of(destination.get("kind"))),
        line("Target", text_of(destination.get("target"))),
        line("Description", text_of(destination.get("description"))),
        line("Id", text_of(destination.get("id"))),
    ]
    return [line for line in lines if line.value]


def destination_label(destination: Mapping[str, Any]) -> str:
    described = text_of(destination.get("description"))
    kind = text_of(destination.get("kind"))
    return one_line(described or f"{kind} {text_of(destination.get('target'))}".strip())


def _test_summary(payload: Mapping[str, Any]) -> Summary:
    destination = member(payload, "destination")
    destination_id = text_of(destination.get("id"))
    return Summary(
        subject="Test message from Hushmetrics",
        heading="Test message",
        title="This destination is connected",
        intro=text_of(payload.get("message"))
        or "A test event from Hushmetrics: this destination is connected.",
        sections=[Section("Destination", _destination_lines(destination))],
        link_label="Open the destination" if destination_id else "",
        link_url=destination_admin_url(destination_id) if destination_id else "",
    )


def _disabled_summary(payload: Mapping[str, Any]) -> Summary:
    destination = member(payload, "destination")
    destination_id = text_of(destination.get("id"))
    label = destination_label(destination)
    admin_url = destination_admin_url(destination_id)
    return Summary(
        subject=one_line(f"Destination disabled: {label}"),
        heading="Destination disabled",
        title=label,
        intro="Hushmetrics stopped sending events to this destination. New leads are still "
        "stored; it gets nothing until it is enabled again.",
        sections=[
            Section("Destination", _destination_lines(destination)),
            Section(
                "Why",
                [
                    line("Reason", text_of(payload.get("reason")), long=True),
                    line("Disabled at", when(payload.get("disabled_at"))),
                ],
            ),
            Section(
                "How to enable it again",
                [
                    line(
                        "Command",
                        f"python manage.py enable_destination {destination_id}",
                        code=True,
                    ),
                    line("Back office", admin_url, href=web_link(admin_url)),
                    line(
                        "Missed events",
                        f"python manage.py redeliver --destination {destination_id}",
                        code=True,
                    ),
                ],
                note="Fix the receiver first. In the back office, tick the destination in "
                "Destinations and choose the Enable action. Deliveries that failed while it "
                "was down can be sent again with redeliver.",
            ),
        ],
        link_label="Open the destination",
        link_url=admin_url,
        alert=True,
    )
