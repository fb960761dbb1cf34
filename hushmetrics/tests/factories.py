"""What every app's factories share: calling one is typed as the model it makes."""

from typing import TYPE_CHECKING, Any, TypeVar

import factory
from django.db.models import Model

M = TypeVar("M", bound=Model)


class ModelFactory(factory.django.DjangoModelFactory[M]):
    """A DjangoModelFactory whose call, `LeadFactory(...)`, is typed as the model it makes
    (factory-boy types `create()` and `build()`, not the call)."""

    class Meta:
        abstract = True

    if TYPE_CHECKING:
        # The metaclass's __call__ answers `create()`: mypy reads a call's type from __new__.
        def __new__(cls, *args: Any, **kwargs: Any) -> M: ...  # type: ignore[misc]  # mypy wants the factory's own class here, the call makes an M
