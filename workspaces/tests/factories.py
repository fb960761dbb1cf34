from typing import TYPE_CHECKING, Any, cast

import factory

from hushmetrics.tests.factories import ModelFactory
from workspaces.models import ApiKey, Profile, Workspace
from workspaces.services import api_key_issue

if TYPE_CHECKING:

    class IssuedApiKey(ApiKey):
        """A key as ApiKeyFactory makes it: its plaintext, shown once, on `.plaintext`."""

        plaintext: str
else:
    IssuedApiKey = ApiKey


class WorkspaceFactory(ModelFactory[Workspace]):
    class Meta:
        model = Workspace

    name = factory.Faker("company")


class ProfileFactory(ModelFactory[Profile]):
    class Meta:
        model = Profile

    workspace = factory.SubFactory(WorkspaceFactory)
    clerk_user_id = factory.Sequence(lambda n: f"user_2test{n:06d}")
    name = factory.Faker("name")
    email = factory.LazyAttribute(lambda profile: f"{profile.clerk_user_id}@example.com")
    is_active = True


class ApiKeyFactory(ModelFactory[IssuedApiKey]):
    """An issued key, through the service; the plaintext is on `.plaintext`."""

    class Meta:
        model = ApiKey

    workspace = factory.SubFactory(WorkspaceFactory)
    name = factory.Sequence(lambda n: f"key {n}")

    @classmethod
    def _create(cls, model_class: type[ApiKey], *args: Any, **kwargs: Any) -> IssuedApiKey:
        scopes = kwargs.pop("scopes", ("ingest",))
        issued = api_key_issue(
            workspace=kwargs["workspace"],
            name=str(kwargs["name"]),
            expires_in_days=kwargs.pop("expires_in_days", None),
            scopes=scopes,
        )
        api_key = cast(IssuedApiKey, issued.api_key)
        api_key.plaintext = issued.plaintext
        return api_key
