"""The webhook's field vocabulary: the spellings it maps onto a lead, the columns a form may
not set, and each column's limit, read from the Lead model."""

from decimal import Decimal

from hushmetrics.serializers import column_max_length
from leads.models import Lead

MAX_NAME = column_max_length(Lead, "name")
MAX_EMAIL = column_max_length(Lead, "email")
MAX_PHONE = column_max_length(Lead, "phone")
MAX_PAGE_URL = column_max_length(Lead, "page_url")
_VALUE = Lead._meta.get_field("value")
# The smallest step of a lead's value (0.01) and the largest value its column holds.
CENT = Decimal(1).scaleb(-_VALUE.decimal_places)
MAX_VALUE = Decimal(10) ** (_VALUE.max_digits - _VALUE.decimal_places) - CENT
ZERO = Decimal(0).quantize(CENT)

# Canonical spelling (see `canonical`) → the lead field it fills.
ALIASES: dict[str, str] = {
    **dict.fromkeys(
        ["name", "names", "full_name", "fullname", "your_name", "contact_name", "customer_name"],
        "name",
    ),
    **dict.fromkeys(
        ["first_name", "firstname", "first", "fname", "given_name", "your_first_name"],
        "first_name",
    ),
    **dict.fromkeys(
        ["last_name", "lastname", "last", "lname", "surname", "family_name", "your_last_name"],
        "last_name",
    ),
    **dict.fromkeys(["middle_name", "middle"], "middle_name"),
    **dict.fromkeys(
        ["email", "e_mail", "email_address", "e_mail_address", "emailaddress", "your_email"],
        "email",
    ),
    **dict.fromkeys(
        [
            "phone",
            "tel",
            "telephone",
            "phone_number",
            "phonenumber",
            "your_phone",
            "your_tel",
            "mobile",
            "mobile_phone",
            "mobile_number",
        ],
        "phone",
    ),
    **dict.fromkeys(
        ["page_url", "pageurl", "source_url", "landing_page", "landing_page_url", "page_uri"],
        "page_url",
    ),
    **dict.fromkeys(["source", "lead_source"], "source"),
    **dict.fromkeys(["value", "lead_value", "deal_value"], "value"),
}
# The parts a name is composed of, in the order they are joined.
NAME_PARTS = ("first_name", "middle_name", "last_name")
# Lead columns a form may not set: kept in extra_data under the posted key, nothing more.
PROTECTED = frozenset(
    {
        "id",
        "workspace",
        "workspace_id",
        "status",
        "is_spam",
        "created_by",
        "setter",
        "submission_id",
        "created_at",
        "updated_at",
    }
)
