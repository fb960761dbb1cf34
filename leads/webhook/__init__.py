"""The universal webhook's normalisation: pure functions from a form's raw fields to a lead's.

`normalise` (normalise.py) runs the pipeline; `builders/` unwraps the form builders that wrap
their fields; `controls.py` reads the control fields and headers; `helpers.py` holds the
text, money and bracket helpers and `role_of` (what a field is, by its name, for whoever reads
a lead's extra_data: its `company`, its `message`); `vocabulary.py` the one table of field
spellings (six languages) and the columns' limits.
"""

from hushmetrics.text import keep
from leads.webhook.builders import unwrap
from leads.webhook.controls import HONEYPOTS, REDIRECTS, redirect_target, submission_id_from
from leads.webhook.helpers import as_text, canonical, expand_brackets, parse_money, role_of
from leads.webhook.normalise import EmptySubmission, WebhookSubmission, normalise
from leads.webhook.vocabulary import (
    ALIASES,
    MAX_EMAIL,
    MAX_NAME,
    MAX_PAGE_URL,
    MAX_PHONE,
    MAX_VALUE,
    PROTECTED,
)

__all__ = [
    "ALIASES",
    "HONEYPOTS",
    "MAX_EMAIL",
    "MAX_NAME",
    "MAX_PAGE_URL",
    "MAX_PHONE",
    "MAX_VALUE",
    "PROTECTED",
    "REDIRECTS",
    "EmptySubmission",
    "WebhookSubmission",
    "as_text",
    "canonical",
    "expand_brackets",
    "keep",
    "normalise",
    "parse_money",
    "redirect_target",
    "role_of",
    "submission_id_from",
    "unwrap",
]
