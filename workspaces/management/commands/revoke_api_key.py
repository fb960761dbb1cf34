from django.core.management.base import BaseCommand, CommandError, CommandParser

from workspaces.selectors import api_key_find
from workspaces.services import api_key_revoke


class Command(BaseCommand):
    help = "Revoke an API key by its prefix (sk_live_XXXXXXXX) or id. This cannot be undone."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("prefix_or_id")

    def handle(self, *args: object, **options: str) -> None:
        api_key = api_key_find(prefix_or_id=options["prefix_or_id"])
        if api_key is None:
            raise CommandError(f"No API key with prefix or id {options['prefix_or_id']!r}.")
        already = api_key.revoked_at is not None
        api_key = api_key_revoke(api_key=api_key)
        if already:
            self.stderr.write(f"Key {api_key.display_prefix}… was already revoked.")
        else:
            self.stderr.write(f"Revoked key {api_key.display_prefix}… ({api_key.name}).")
        self.stdout.write(api_key.display_prefix)
