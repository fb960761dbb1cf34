"""rows_insert: rows of several models in one statement, written exactly as the ORM would."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, connection
from django.db.models.sql import InsertQuery

from hushmetrics.inserts import _insert_sql, rows_insert, rows_stamp
from leads.models import Lead
from outbound.models import Delivery, Event
from outbound.tests.factories import DestinationFactory

pytestmark = pytest.mark.django_db


def _django_insert(rows):
    meta = rows[0]._meta
    query = InsertQuery(meta.model)
    query.insert_values([f for f in meta.concrete_fields if not f.generated], rows, raw=True)
    ((sql, params),) = query.get_compiler(connection=connection).as_sql()
    return sql, [getattr(p, "obj", p) for p in params]  # JSON adapters: their value


def _lead(workspace, **fields) -> Lead:
    lead = Lead(workspace=workspace, name="Ana", value=Decimal("1500.00"), **fields)
    rows_stamp(lead)
    return lead


def test_each_insert_is_the_one_djangos_compiler_makes_also_once_its_text_is_kept(workspace):
    utm = {"utm_source": "google", "nested": {"k": [1, "two", None]}}
    for _ in range(3):  # the first compiles and keeps the text; the others reuse it
        lead = _lead(workspace, utm=utm, extra_data={"a": "ü"}, email="ana@example.com")
        sql, params = _insert_sql([lead])
        assert (sql, [getattr(p, "obj", p) for p in params]) == _django_insert([lead])


def test_a_lead_its_event_and_deliveries_are_written_together(
    workspace, is_postgres, django_assert_num_queries
):
    destinations = [DestinationFactory(workspace=workspace) for _ in range(2)]
    lead = _lead(workspace, utm={"utm_source": "x"})
    event = Event(workspace=workspace, type="lead.created", payload={"lead": {"id": str(lead.id)}})
    rows_stamp(event)
    deliveries = [
        Delivery(
            event=event,
            destination=d,
            event_type="lead.created",
            next_attempt_at=event.created_at,
        )
        for d in destinations
    ]
    rows_stamp(*deliveries)
    # Elsewhere an INSERT per model (in the test's transaction: no BEGIN or COMMIT of its own).
    with django_assert_num_queries(1 if is_postgres else 3):
        rows_insert([lead, event, *deliveries])
    stored = Lead.objects.get()
    assert (stored.id, stored.name, stored.value, stored.utm) == (
        lead.id,
        "Ana",
        Decimal("1500.00"),
        {"utm_source": "x"},
    )
    assert (stored.created_at, stored.updated_at) == (lead.created_at, lead.updated_at)
    assert Event.objects.get().payload == {"lead": {"id": str(lead.id)}}
    assert sorted(Delivery.objects.values_list("destination_id", flat=True)) == sorted(
        d.id for d in destinations
    )
    assert not lead._state.adding


@pytest.mark.django_db(transaction=True)
def test_a_refused_row_writes_none_of_the_others(workspace):
    # In autocommit, as the webhook writes: the one statement (or, elsewhere, the
    # transaction) is all or nothing.
    DestinationFactory(workspace=workspace)
    first = _lead(workspace, submission_id="form-1")
    rows_insert([first])
    again = _lead(workspace, submission_id="form-1")
    event = Event(workspace=workspace, type="lead.created", payload={})
    rows_stamp(event)
    with pytest.raises(IntegrityError):
        rows_insert([again, event])
    assert list(Lead.objects.values_list("id", flat=True)) == [first.id]
    assert Event.objects.count() == 0
