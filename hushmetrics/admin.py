"""Admin plumbing every app's back office shares: read-only pages, saving through services."""

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest


class ReadOnlyAdminMixin:
    """For a ModelAdmin or an inline of records staff look at but never add, edit or delete."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ServiceModelAdmin(admin.ModelAdmin):
    """A ModelAdmin that adds and edits through the app's services, like every other caller.

    A subclass says which service does each: `create` gets the add form's values, `update`
    the stored row and only the values the form changed (the form has already written them
    onto the admin's instance, so an update service comparing against that would see no
    change). Either returns the saved row, which the admin's own instance then becomes: the
    admin goes on with that instance (its log entry, its redirect, its inlines).
    """

    def create(self, request: HttpRequest, values: dict[str, Any]) -> Model:
        raise NotImplementedError

    def update(self, request: HttpRequest, stored: Any, changes: dict[str, Any]) -> Model:
        raise NotImplementedError

    def save_model(
        self, request: HttpRequest, obj: Any, form: forms.ModelForm, change: bool
    ) -> None:
        if change:
            stored = type(obj)._default_manager.get(pk=obj.pk)
            changes = {name: form.cleaned_data[name] for name in form.changed_data}
            saved = self.update(request, stored, changes)
        else:
            saved = self.create(request, dict(form.cleaned_data))
        _adopt(obj, saved)


def _adopt(obj: Model, saved: Model) -> None:
    """Make `obj` the row `saved`: every column's value (the primary key included) is copied
    over, and `obj` is a stored row from now on."""
    for field in saved._meta.concrete_fields:
        setattr(obj, field.attname, getattr(saved, field.attname))
    obj._state.adding = False
    obj._state.db = saved._state.db
