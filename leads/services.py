"""Writes for leads. Every surface (API, webhook, opt-in, admin) creates and edits through here."""

from decimal import Decimal
from typing import Any

from django.db import transaction

from leads.models import Lead
from workspaces.models import Profile, Workspace

# Fields staff and services may change on an existing lead.
EDITABLE_FIELDS = frozenset(
    {
        "name",
        "email",
        "phone",
        "status",
        "source",
        "value",
        "setter",
        "created_by",
        "utm",
        "extra_data",
        "page_url",
        "is_spam",
    }
)


def lead_create(
    *,
    workspace: Workspace,
    name: str = "",
    email: str = "",
    phone: str = "",
    status: str = Lead.Status.CONTACT,
    source: str = Lead.Source.OTHER,
    value: Decimal = Decimal("0"),
    created_by: Profile | None = None,
    setter: Profile | None = None,
    utm: dict[str, Any] | None = None,
    extra_data: dict[str, Any] | None = None,
    page_url: str | None = None,
    is_spam: bool = False,
    submission_id: str | None = None,
) -> Lead:
    """Insert one lead (one query). Inputs are already validated by the caller's surface."""
    return Lead.objects.create(
        workspace=workspace,
        name=name,
        email=email,
        phone=phone,
        status=status,
        source=source,
        value=value,
        created_by=created_by,
        setter=setter,
        utm=utm,
        extra_data=extra_data,
        page_url=page_url,
        is_spam=is_spam,
        submission_id=submission_id,
    )


@transaction.atomic
def lead_update(*, lead: Lead, data: dict[str, Any]) -> Lead:
    """Change the given fields of a lead (and updated_at), writing only those columns."""
    unknown = set(data) - EDITABLE_FIELDS
    if unknown:
        raise ValueError(f"not editable: {', '.join(sorted(unknown))}")
    changed = [field for field, value in data.items() if getattr(lead, field) != value]
    for field in changed:
        setattr(lead, field, data[field])
    if changed:
        lead.save(update_fields=[*changed, "updated_at"])
    return lead
