"""One row by a hand-written WHERE: the ingest path's hot lookups, without the ORM's compile.

Building and compiling a QuerySet costs more CPU than the indexed lookup it sends: 0.35 ms
for the opt-in's lead-by-email query (its LOWER(), ORDER BY and LIMIT), 0.2 ms for the API
key's, against about 0.1 ms for the same row through `Manager.raw()` (measured in-process,
BENCHMARKS.md "Toward the floor"). `Manager.raw()` still makes the model instance the ORM
would, with the database's converters applied (SQLite's datetimes, JSON), so a caller gets
what `.first()` would have given it. Values are passed as the field prepares them for this
database (`db_value`: a UUID is a hex string on SQLite), never formatted into the SQL.
"""

from typing import Any, TypeVar

from django.db import connection
from django.db.models import Model

M = TypeVar("M", bound=Model)


def db_value(model: type[Model], field: str, value: Any) -> Any:
    """`value` as `model.field` sends it to this database (a foreign key as its target's)."""
    return model._meta.get_field(field).get_db_prep_value(value, connection)  # type: ignore[union-attr]


def row_where(model: type[M], where: str, params: list[Any], *, order_by: str = "") -> M | None:
    """The first row of `model`'s table matching `where` (SQL with `%s` placeholders and
    double-quoted column names), in `order_by`'s order, or None."""
    table = connection.ops.quote_name(model._meta.db_table)
    order = f" ORDER BY {order_by}" if order_by else ""
    # `where` and `order_by` are the caller's code, never input: input is in `params` only.
    sql = f"SELECT * FROM {table} WHERE {where}{order} LIMIT 1"  # noqa: S608
    return next(iter(model._default_manager.raw(sql, params)), None)
