"""New rows of several models written by one statement: one round trip on the ingest path.

A lead and the event that announces it, with its deliveries, are written together. Through
the ORM that is a transaction of its own (BEGIN, an INSERT per model, COMMIT: four round
trips); `rows_insert` sends Django's own INSERT for each model, joined on PostgreSQL into
one statement by data-modifying WITH clauses. One statement is atomic by itself, and the
foreign keys between the rows hold: Django declares them DEFERRABLE INITIALLY DEFERRED, so
PostgreSQL checks them at the end of the statement (or of the caller's transaction). Other
databases get the same INSERTs one after another in a transaction.

The rows are stamped (`rows_stamp`: auto_now / auto_now_add, as a save would) before they
are written and are written exactly as they are, so what the caller builds from them (an
event's payload) carries the stored values.
"""

from collections.abc import Sequence
from itertools import groupby
from typing import Any

from django.db import connection, transaction
from django.db.models import Model
from django.db.models.sql import InsertQuery


def rows_stamp(*rows: Model) -> None:
    """Set each row's auto_now / auto_now_add fields, as saving it new would."""
    for row in rows:
        for field in row._meta.concrete_fields:
            if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
                field.pre_save(row, add=True)


# The INSERT's text per (model, number of rows, database), made by Django's compiler once:
# the text depends on nothing else when every value is a plain one (below), so later
# INSERTs only prepare their values, as the compiler would.
_SQL: dict[tuple[type[Model], int, str], str] = {}


def _insert_sql(rows: list[Model]) -> tuple[str, tuple[Any, ...]]:
    """Django's INSERT of `rows` (one model, primary keys set), values taken as they are."""
    meta = rows[0]._meta
    fields = [f for f in meta.concrete_fields if not f.generated]
    raw_values = [getattr(row, field.attname) for row in rows for field in fields]
    key = (meta.model, len(rows), connection.alias)
    sql = _SQL.get(key)
    if sql is not None and not any(hasattr(v, "resolve_expression") for v in raw_values):
        values = zip(raw_values, fields * len(rows), strict=True)
        return sql, tuple(f.get_db_prep_save(v, connection=connection) for v, f in values)
    query = InsertQuery(meta.model)
    query.insert_values(fields, rows, raw=True)
    ((sql, params),) = query.get_compiler(connection=connection).as_sql()
    plain = (
        not any(hasattr(v, "resolve_expression") for v in raw_values)
        and not any(hasattr(field, "get_placeholder") for field in fields)
        and len(params) == len(raw_values)  # one "%s" per value (no UNNEST, no expression)
    )
    if plain and key not in _SQL:
        _SQL[key] = sql
    return sql, tuple(params)


def rows_insert(rows: Sequence[Model]) -> None:
    """Write new, stamped `rows` (client-side primary keys), in one statement on PostgreSQL.

    Consecutive rows of one model become one multi-row INSERT (rows of one model alone: that
    INSERT, on any database). Raises IntegrityError as saving them would (nothing is written
    then).
    """
    statements = [_insert_sql(list(group)) for _, group in groupby(rows, key=type)]
    with connection.cursor() as cursor:
        if len(statements) == 1:
            cursor.execute(*statements[0])
        elif connection.vendor == "postgresql":
            *first, (last_sql, last_params) = statements
            clauses = ", ".join(f"w{n} AS ({sql})" for n, (sql, _) in enumerate(first))
            params = tuple(p for _, group_params in first for p in group_params)
            cursor.execute(f"WITH {clauses} {last_sql}", params + last_params)
        else:
            with transaction.atomic(savepoint=False):
                for sql, params in statements:
                    cursor.execute(sql, params)
    for row in rows:
        row._state.adding = False
        row._state.db = connection.alias
