"""The floor's plain table: the documented create-lead fields, no index but the key."""

from typing import ClassVar

from django.db import models


class Entry(models.Model):
    name = models.CharField(max_length=300, blank=True, default="")
    email = models.CharField(max_length=254, blank=True, default="")
    phone = models.CharField(max_length=50, blank=True, default="")
    source = models.CharField(max_length=20, blank=True, default="")
    value = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    utm = models.JSONField(null=True)
    extra_data = models.JSONField(null=True)
    page_url = models.TextField(null=True)  # noqa: DJ001 - as the lead's: null when not sent
    created_at = models.DateTimeField(auto_now_add=True)

    # Declared: the type checker reads the project's settings, where this app is not installed.
    objects: ClassVar[models.Manager["Entry"]] = models.Manager()

    def __str__(self) -> str:
        return self.email or self.name
