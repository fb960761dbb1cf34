"""Sending an event to a Slack destination (SPEC §9): a POST of `{"text", "blocks"}` to an
incoming-webhook URL, under the webhooks' rules (outbound.webhooks.post_outcome: https and
vetted addresses, one deadline, no redirects, 410 disables, Retry-After on 429/503).

`text` is the notification line (and what clients without blocks show); the blocks are
Block Kit: a header, the lead's name, email, phone, source, value (and status) as fields,
its message, its other form fields, an opt-in's Q&A, the UTM values and a button to the
lead's admin page. Every value is escaped for mrkdwn (&, <, >: a lead named `<!channel>`
pings nobody) and cut to Slack's limits.
"""

import json

from outbound import network
from outbound.models import Destination, Event
from outbound.summaries import Line, Summary, one_line, summarize
from outbound.webhooks import Outcome, post_outcome

USER_AGENT = "Hushmetrics-Slack/1.0"
# Block Kit's limits: a header's text, a section's text, one field, a button's label.
HEADER_MAX = 150
SECTION_MAX = 3000
FIELD_MAX = 2000
BUTTON_MAX = 75
_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def escape(value: str, *, limit: int = SECTION_MAX) -> str:
    """`value` for mrkdwn: &, < and > escaped (Slack's control characters), cut to `limit`
    characters of the escaped text, never inside an entity."""
    out: list[str] = []
    size = 0
    for char in value:
        piece = _ESCAPES.get(char, char)
        if size + len(piece) > limit - 1:
            out.append("…")
            break
        out.append(piece)
        size += len(piece)
    return "".join(out)


def _mrkdwn(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": text}


def _cut(text: str, limit: int = SECTION_MAX) -> str:
    """Escaped mrkdwn within `limit` characters, never cut inside an entity (`&amp;`)."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    ampersand = cut.rfind("&", len(cut) - 5)
    if ampersand != -1 and ";" not in cut[ampersand:]:
        cut = cut[:ampersand]
    return cut + "…"


def _quoted(value: str) -> str:
    """A long value (a message, an answer) as a mrkdwn quote, its line breaks kept."""
    return "\n".join(f">{escape(row)}" for row in (value or "—").splitlines())


def _section(title: str, lines: list[Line]) -> dict[str, object]:
    """`*Title*` then `*Label:* value` per line; a long value quoted on its own lines."""
    parts = [f"*{escape(title, limit=200)}*"]
    for line in lines:
        label = escape(line.label, limit=200)
        if line.long:
            parts.append(f"*{label}*\n{_quoted(line.value)}")
        else:
            parts.append(f"*{label}:* {escape(one_line(line.value or '—', limit=SECTION_MAX))}")
    return {"type": "section", "text": _mrkdwn(_cut("\n".join(parts)))}


def _context(text: str) -> dict[str, object]:
    return {"type": "context", "elements": [_mrkdwn(escape(one_line(text, limit=SECTION_MAX)))]}


def slack_message(summary: Summary) -> dict[str, object]:
    """The JSON document for one event."""
    title = one_line(f"{summary.heading}: {summary.title}", limit=HEADER_MAX)
    blocks: list[dict[str, object]] = [
        {"type": "header", "text": {"type": "plain_text", "text": title}}
    ]
    if summary.intro:
        blocks.append(_context(summary.intro))
    lead = summary.lead
    if lead is not None:
        fields = [
            ("Name", lead.name),
            ("Email", lead.email),
            ("Phone", lead.phone),
            ("Source", lead.source),
            ("Value", lead.value),
            ("Status", lead.status),
        ]
        blocks.append(
            {
                "type": "section",
                "fields": [
                    _mrkdwn(f"*{label}*\n{escape(one_line(value or '—'), limit=FIELD_MAX - 20)}")
                    for label, value in fields
                ],
            }
        )
        if lead.message:
            blocks.append(
                {"type": "section", "text": _mrkdwn(_cut(f"*Message*\n{_quoted(lead.message)}"))}
            )
        if summary.qa:
            blocks.append(_section("Questions and answers", summary.qa))
        others = [line for line in lead.extras if not line.long]
        if others:
            blocks.append(_section("Form fields", others))
        if lead.utm:
            blocks.append(_context(" · ".join(f"{line.label}: {line.value}" for line in lead.utm)))
        if lead.is_spam:
            blocks.append(_context("Marked as spam by the spam checks."))
    else:
        blocks += [_section(section.title, section.lines) for section in summary.sections]
    if summary.link_url:
        button = {
            "type": "button",
            "text": {"type": "plain_text", "text": summary.link_label[:BUTTON_MAX]},
            "url": summary.link_url,
        }
        blocks.append({"type": "actions", "elements": [button]})
    return {"text": escape(summary.subject), "blocks": blocks}


def slack_send(
    *, destination: Destination, event: Event, resolver: network.Resolver | None = None
) -> Outcome:
    """One POST of `event`'s message to `destination`'s incoming webhook."""
    body = json.dumps(
        slack_message(summarize(event.type, event.payload)), ensure_ascii=False
    ).encode()
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT}
    return post_outcome(destination.target, body=body, headers=headers, resolver=resolver)
