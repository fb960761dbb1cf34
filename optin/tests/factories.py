import factory

from hushmetrics.tests.factories import ModelFactory
from leads.tests.factories import LeadFactory
from optin.models import OptIn, QuestionAnswer
from workspaces.tests.factories import ApiKeyFactory


class OptInFactory(ModelFactory[OptIn]):
    class Meta:
        model = OptIn

    lead = factory.SubFactory(LeadFactory)
    workspace = factory.SelfAttribute("lead.workspace")
    api_key = factory.SubFactory(ApiKeyFactory, workspace=factory.SelfAttribute("..workspace"))
    source = OptIn.Source.LANDING_PAGE
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.SelfAttribute("lead.email")
    utm_source = "facebook"


class QuestionAnswerFactory(ModelFactory[QuestionAnswer]):
    class Meta:
        model = QuestionAnswer

    opt_in = factory.SubFactory(OptInFactory)
    question = factory.Sequence(lambda n: f"Question {n}?")
    answer = factory.Faker("sentence")
    position = factory.Sequence(int)
