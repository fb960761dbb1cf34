# Fewer indexes paid on every insert into leads_lead (issue 18; BENCHMARKS.md, "Lead table
# indexes: what each costs per insert").
#
# - One trigram GIN over UPPER(email || ' ' || name || ' ' || phone) replaces the three of
#   migration 0002 (one per column): `leads.selectors.lead_search` filters on that expression
#   (and, for a term with a space, on each column too). PostgreSQL only, like
#   0002; fastupdate stays on (the default): off measured ~1.5x the CPU per insert.
# - lead_email_ci (LOWER(email) alone) goes: no query filters on it without the workspace,
#   and lead_ws_email_ci (workspace, LOWER(email), created_at) serves those that do.
# - The workspace foreign key loses its own index: every lead_list_* index starts with
#   workspace_id, so a workspace's leads (and their cascade delete) are still a range scan.
# - setter and created_by keep an index only where set (partial), for the SET NULL on a
#   profile's deletion; a lead ingested without them skips both.
#
# On PostgreSQL everything is built or dropped CONCURRENTLY (hence a non-atomic migration),
# each new index before the old ones go, so a live table keeps its writes and its searches.

from django.db import migrations, models
from django.db.models.functions import Lower

OLD_TRIGRAM = {
    "lead_email_trgm": "email",
    "lead_name_trgm": "name",
    "lead_phone_trgm": "phone",
}
# The expression is exactly what `icontains` on leads.models.LeadSearchText renders.
SEARCH_TRIGRAM = (
    "CREATE INDEX CONCURRENTLY lead_search_trgm ON leads_lead USING gin "
    "((UPPER((email || ' ' || name || ' ' || phone)::text)) gin_trgm_ops)"
)
OLD_EMAIL_CI = models.Index(Lower("email"), name="lead_email_ci")
# The indexes Django made for the three foreign keys in 0001 (db_index=True, named by Django).
OLD_FK_INDEXES = {
    "leads_lead_workspace_id_e3ee80f5": "workspace_id",
    "leads_lead_setter_id_a2ef4779": "setter_id",
    "leads_lead_created_by_id_bd2e8097": "created_by_id",
}
NEW_INDEXES = [
    models.Index(
        condition=models.Q(("setter__isnull", False)), fields=["setter"], name="lead_setter"
    ),
    models.Index(
        condition=models.Q(("created_by__isnull", False)),
        fields=["created_by"],
        name="lead_created_by",
    ),
]


def _postgres(schema_editor) -> bool:
    return schema_editor.connection.vendor == "postgresql"


def _add(schema_editor, model, index):
    if _postgres(schema_editor):
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {index.name}")  # a failed run's
        schema_editor.add_index(model, index, concurrently=True)
    else:
        schema_editor.add_index(model, index)


def _drop(schema_editor, name):
    concurrently = "CONCURRENTLY " if _postgres(schema_editor) else ""
    schema_editor.execute(f"DROP INDEX {concurrently}IF EXISTS {name}")


def forwards(apps, schema_editor):
    lead = apps.get_model("leads", "Lead")
    if _postgres(schema_editor):
        schema_editor.execute("DROP INDEX CONCURRENTLY IF EXISTS lead_search_trgm")
        schema_editor.execute(SEARCH_TRIGRAM)
        for name in OLD_TRIGRAM:
            _drop(schema_editor, name)
    for index in NEW_INDEXES:
        _add(schema_editor, lead, index)
    for name in [OLD_EMAIL_CI.name, *OLD_FK_INDEXES]:
        _drop(schema_editor, name)


def backwards(apps, schema_editor):
    lead = apps.get_model("leads", "Lead")
    concurrently = "CONCURRENTLY " if _postgres(schema_editor) else ""
    for name, column in OLD_FK_INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX {concurrently}IF NOT EXISTS {name} ON leads_lead ({column})"
        )
    _add(schema_editor, lead, OLD_EMAIL_CI)
    for index in NEW_INDEXES:
        _drop(schema_editor, index.name)
    if _postgres(schema_editor):
        for name, column in OLD_TRIGRAM.items():
            schema_editor.execute(
                f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON leads_lead "
                f"USING gin ((UPPER({column}::text)) gin_trgm_ops)"
            )
        _drop(schema_editor, "lead_search_trgm")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("leads", "0004_lead_list_indexes"),
        ("workspaces", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="lead",
                    name="workspace",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=models.deletion.CASCADE,
                        related_name="leads",
                        to="workspaces.workspace",
                    ),
                ),
                migrations.AlterField(
                    model_name="lead",
                    name="setter",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=models.deletion.SET_NULL,
                        related_name="+",
                        to="workspaces.profile",
                    ),
                ),
                migrations.AlterField(
                    model_name="lead",
                    name="created_by",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=models.deletion.SET_NULL,
                        related_name="+",
                        to="workspaces.profile",
                    ),
                ),
                migrations.RemoveIndex(model_name="lead", name="lead_email_ci"),
                *[migrations.AddIndex(model_name="lead", index=index) for index in NEW_INDEXES],
            ],
            database_operations=[migrations.RunPython(forwards, backwards, elidable=False)],
        ),
    ]
