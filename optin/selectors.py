"""Reads for opt-ins, each one query, each workspace-scoped."""

from django.db.models import Prefetch

from leads.models import Lead
from optin.models import OptIn, QuestionAnswer
from workspaces.models import Workspace


def optin_get_by_reference(
    *, workspace: Workspace, source: str, external_reference: str
) -> OptIn | None:
    """The opt-in a partner already sent with this reference and source, or None (one row at
    most: the constraint optin_unique_external_reference)."""
    try:
        return OptIn.objects.get(
            workspace=workspace, source=source, external_reference=external_reference
        )
    except OptIn.DoesNotExist:
        return None


def optin_list_for_lead(*, lead: Lead) -> list[OptIn]:
    """The lead's opt-ins, newest first, each with its answers in position order: two
    queries however many there are (one when there are none)."""
    answers = Prefetch("answers", queryset=QuestionAnswer.objects.order_by("position", "id"))
    return list(
        OptIn.objects.filter(workspace_id=lead.workspace_id, lead=lead)
        .order_by("-created_at", "-id")
        .prefetch_related(answers)
    )
