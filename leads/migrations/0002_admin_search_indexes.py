"""Trigram indexes for the admin's lead search (PostgreSQL only; SQLite skips them).

Django's `icontains` on PostgreSQL is `UPPER(col::text) LIKE UPPER('%term%')`; GIN indexes
with `gin_trgm_ops` on exactly `UPPER(col::text)` serve it, so searching any part of an
email, a name or a phone number stays an index lookup at millions of rows. They are built
CONCURRENTLY (hence a non-atomic migration) so a live table is not locked while they build.
"""

from django.db import migrations

INDEXES = {
    "lead_email_trgm": "email",
    "lead_name_trgm": "name",
    "lead_phone_trgm": "phone",
}


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, column in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON leads_lead "
            f"USING gin ((UPPER({column}::text)) gin_trgm_ops)"
        )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("leads", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(create_indexes, drop_indexes, elidable=False),
    ]
