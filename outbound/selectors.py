"""Reads for outbound: destinations and deliveries, by id, and the lists operators see."""

import uuid
from datetime import timedelta

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from outbound.models import Delivery, DeliveryState, Destination
from workspaces.models import Workspace


def _as_uuid(value: str | uuid.UUID) -> uuid.UUID | None:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value).strip())
    except ValueError:
        return None


def destination_get(*, destination_id: str | uuid.UUID) -> Destination | None:
    pk = _as_uuid(destination_id)
    if pk is None:
        return None
    return Destination.objects.select_related("workspace").filter(pk=pk).first()


def delivery_get(*, delivery_id: str | uuid.UUID) -> Delivery | None:
    pk = _as_uuid(delivery_id)
    if pk is None:
        return None
    return Delivery.objects.select_related("event", "destination").filter(pk=pk).first()


def destination_list(*, workspace: Workspace | None = None) -> QuerySet[Destination]:
    destinations = Destination.objects.select_related("workspace").order_by("created_at")
    return destinations.filter(workspace=workspace) if workspace is not None else destinations


def _finished_count(*states: str) -> Coalesce:
    """Deliveries of the outer destination finished in the last 24 h in `states`: one
    correlated count on the (destination, finished_at) index. COUNT(*), not of the id: the
    index holds destination, finished_at and state, so the count reads the index alone."""
    since = timezone.now() - timedelta(hours=24)
    counts = (
        Delivery.objects.filter(
            destination=OuterRef("pk"), finished_at__gte=since, state__in=states
        )
        .order_by()
        .values("destination")
        .annotate(n=Count("*"))
        .values("n")
    )
    return Coalesce(Subquery(counts, output_field=IntegerField()), Value(0))


def destinations_with_health(queryset: QuerySet[Destination]) -> QuerySet[Destination]:
    """Annotates `succeeded_24h` and `finished_24h` (deliveries finished in 24 h), in the
    list's own query: no query per row."""
    return queryset.annotate(
        succeeded_24h=_finished_count(DeliveryState.SUCCEEDED),
        finished_24h=_finished_count(DeliveryState.SUCCEEDED, DeliveryState.FAILED),
    )
