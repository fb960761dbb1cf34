from decimal import Decimal

import factory

from hushmetrics.tests.factories import ModelFactory
from leads.models import Lead
from workspaces.tests.factories import WorkspaceFactory


class LeadFactory(ModelFactory[Lead]):
    class Meta:
        model = Lead

    workspace = factory.SubFactory(WorkspaceFactory)
    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"lead{n}@example.com")
    phone = factory.Sequence(lambda n: f"+1555{n:07d}")
    status = Lead.Status.CONTACT
    source = Lead.Source.WEBSITE
    value = Decimal("100.00")
