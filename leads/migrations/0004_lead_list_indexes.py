# Indexes for GET /v1/leads (SPEC §10), each named for the query it serves (see Lead.Meta).
#
# (workspace, created_at, id) replaces (workspace, -created_at): a btree is read in either
# direction, and the id makes the keyset (created_at, id) a range of the index. On PostgreSQL
# the indexes are built CONCURRENTLY (hence a non-atomic migration), so a live table of
# millions of leads keeps taking writes while they build; the old index goes only once its
# replacement exists.

from django.db import migrations, models

NEW_INDEXES = [
    models.Index(fields=["workspace", "created_at", "id"], name="lead_list_created"),
    models.Index(fields=["workspace", "updated_at", "id"], name="lead_list_updated"),
    models.Index(
        condition=models.Q(("is_spam", True)),
        fields=["workspace", "created_at", "id"],
        name="lead_list_spam_created",
    ),
    models.Index(
        condition=models.Q(("is_spam", True)),
        fields=["workspace", "updated_at", "id"],
        name="lead_list_spam_updated",
    ),
    models.Index(
        fields=["workspace", "status", "created_at", "id"], name="lead_list_status_created"
    ),
    models.Index(
        fields=["workspace", "source", "created_at", "id"], name="lead_list_source_created"
    ),
]
OLD_INDEX = models.Index(fields=["workspace", "-created_at"], name="lead_ws_created")


def _add(schema_editor, model, index):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {index.name}")  # a failed run's
        schema_editor.add_index(model, index, concurrently=True)
    else:
        schema_editor.add_index(model, index)


def _remove(schema_editor, model, index):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.remove_index(model, index, concurrently=True)
    else:
        schema_editor.remove_index(model, index)


def forwards(apps, schema_editor):
    lead = apps.get_model("leads", "Lead")
    for index in NEW_INDEXES:
        _add(schema_editor, lead, index)
    _remove(schema_editor, lead, OLD_INDEX)


def backwards(apps, schema_editor):
    lead = apps.get_model("leads", "Lead")
    _add(schema_editor, lead, OLD_INDEX)
    for index in NEW_INDEXES:
        _remove(schema_editor, lead, index)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("leads", "0003_lead_submission_fingerprint"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveIndex(model_name="lead", name="lead_ws_created"),
                *[migrations.AddIndex(model_name="lead", index=index) for index in NEW_INDEXES],
            ],
            database_operations=[migrations.RunPython(forwards, backwards, elidable=False)],
        ),
    ]
