import factory

from workspaces.models import ApiKey, Profile, Workspace
from workspaces.services import api_key_issue


class WorkspaceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Workspace

    name = factory.Faker("company")


class ProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Profile

    workspace = factory.SubFactory(WorkspaceFactory)
    clerk_user_id = factory.Sequence(lambda n: f"user_2test{n:06d}")
    name = factory.Faker("name")
    email = factory.LazyAttribute(lambda profile: f"{profile.clerk_user_id}@example.com")
    is_active = True


class ApiKeyFactory(factory.django.DjangoModelFactory):
    """An issued key, through the service; the plaintext is on `.plaintext`."""

    class Meta:
        model = ApiKey

    workspace = factory.SubFactory(WorkspaceFactory)
    name = factory.Sequence(lambda n: f"key {n}")

    @classmethod
    def _create(cls, model_class: type[ApiKey], *args: object, **kwargs: object) -> ApiKey:
        expires_in_days = kwargs.pop("expires_in_days", None)
        scopes = kwargs.pop("scopes", ("ingest",))
        issued = api_key_issue(
            workspace=kwargs["workspace"],  # type: ignore[arg-type]
            name=str(kwargs["name"]),
            expires_in_days=expires_in_days,  # type: ignore[arg-type]
            scopes=scopes,  # type: ignore[arg-type]
        )
        issued.api_key.plaintext = issued.plaintext  # type: ignore[attr-defined]
        return issued.api_key
