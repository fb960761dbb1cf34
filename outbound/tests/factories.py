from typing import Any

import factory

from hushmetrics.tests.factories import ModelFactory
from outbound.models import Destination
from outbound.services import destination_create
from workspaces.tests.factories import WorkspaceFactory


class DestinationFactory(ModelFactory[Destination]):
    """A destination made by the service (its secret, the workspace's flag)."""

    class Meta:
        model = Destination

    workspace = factory.SubFactory(WorkspaceFactory)
    kind = Destination.Kind.WEBHOOK
    target = factory.Sequence(lambda n: f"https://hooks{n}.example.com/in")
    event_types: list[str] = []
    include_spam = False
    description = ""

    @classmethod
    def _create(cls, model_class: type[Destination], *args: Any, **kwargs: Any) -> Destination:
        return destination_create(**kwargs)
