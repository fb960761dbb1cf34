"""Keyset paging holds while other threads write (PostgreSQL, real threads): SPEC §10."""

import random
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient

from leads.models import Lead
from leads.services import lead_create, lead_update
from workspaces.models import Workspace
from workspaces.tests.factories import ApiKeyFactory, WorkspaceFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

LEADS = 10_000
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def seed(workspace: Workspace, count: int) -> list[Lead]:
    """`count` leads, one second apart from T0 (created and updated), in one INSERT."""
    leads = Lead.objects.bulk_create(
        [
            Lead(workspace=workspace, name=f"Lead {n}", email=f"l{n}@example.com")
            for n in range(count)
        ]
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE leads_lead SET created_at = %s + (substr(name, 6)::int * interval '1 second'),"
            " updated_at = %s + (substr(name, 6)::int * interval '1 second')"
            " WHERE workspace_id = %s",
            [T0, T0, workspace.pk],
        )
    return leads


class Writer(threading.Thread):
    """Calls `write` over and over on its own connection until stopped (or `limit` times)."""

    def __init__(self, write: Callable[[int], None], limit: int = 1_000_000) -> None:
        super().__init__(daemon=True)
        self.write, self.limit = write, limit
        self.stop = threading.Event()
        self.started_writing = threading.Event()
        self.count = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while not self.stop.is_set() and self.count < self.limit:
                self.write(self.count)
                self.count += 1
                self.started_writing.set()
        except BaseException as error:  # reported by the test, not lost in the thread
            self.error = error
        finally:
            self.started_writing.set()
            connection.close()


def page_through(client: APIClient, **params: Any) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        response = client.get("/v1/leads", query)
        assert response.status_code == 200, response.json()
        body = response.json()
        seen.extend(body["data"])
        cursor = body["next_cursor"]
        if cursor is None:
            return seen


@pytest.fixture
def reader_and_workspace() -> tuple[APIClient, Workspace]:
    workspace = WorkspaceFactory()
    key = ApiKeyFactory(workspace=workspace, scopes=["leads:read"])
    return APIClient(HTTP_X_API_KEY=key.plaintext), workspace


@pytest.mark.parametrize("order", ["-created_at", "created_at"])
def test_paging_10000_leads_while_another_thread_inserts(reader_and_workspace, order, settings):
    settings.RATE_LIMIT_READ = "100000/m"
    client, workspace = reader_and_workspace
    before = {str(lead.pk) for lead in seed(workspace, LEADS)}
    inserted: list[str] = []

    def insert(n: int) -> None:
        inserted.append(str(lead_create(workspace=workspace, name=f"New {n}").pk))

    writer = Writer(insert)
    writer.start()
    writer.started_writing.wait(timeout=10)
    try:
        seen = page_through(client, order=order, limit=200)
    finally:
        writer.stop.set()
        writer.join(timeout=30)
    assert writer.error is None
    assert writer.count > 10, "the inserts must overlap the paging"
    ids = [lead["id"] for lead in seen]
    # Every lead that existed before the first page: seen exactly once. None twice.
    assert len(ids) == len(set(ids))
    assert before <= set(ids)
    # Nothing else but the new leads, and (oldest first) the ones committed in time.
    assert set(ids) - before <= set(inserted)
    # The keyset order holds across every page boundary (the seeded leads are a second
    # apart, so their shown, whole-second created_at orders them).
    keys = [lead["created_at"] for lead in seen if lead["id"] in before]
    assert keys == sorted(keys, reverse=order.startswith("-"))


def test_syncing_by_updated_at_while_leads_are_being_updated(reader_and_workspace, settings):
    """order=updated_at&updated_after=…: a lead never updated during the run is seen exactly
    once; no version of a lead (its id and updated_at) is seen twice; every lead that matched
    when paging began is seen; a lead updated while the pages are read comes again at the
    end, with its new updated_at, and never goes back in time."""
    settings.RATE_LIMIT_READ = "100000/m"
    client, workspace = reader_and_workspace
    leads = seed(workspace, LEADS)
    since = T0 + timedelta(seconds=LEADS // 2)
    matched = {
        str(lead.pk) for lead in Lead.objects.filter(workspace=workspace, updated_at__gt=since)
    }
    assert len(matched) == LEADS // 2 - 1
    touched: set[str] = set()
    lock = threading.Lock()

    def update(n: int) -> None:
        lead = random.Random(n).choice(leads)  # noqa: S311 - test data
        lead_update(lead=lead, data={"name": f"Updated {n}"})
        with lock:
            touched.add(str(lead.pk))

    writers = [Writer(update, limit=3_000) for _ in range(2)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.started_writing.wait(timeout=10)
    try:
        seen = page_through(client, order="updated_at", updated_after=since.isoformat(), limit=200)
    finally:
        for writer in writers:
            writer.stop.set()
        for writer in writers:
            writer.join(timeout=30)
    assert all(writer.error is None for writer in writers)
    assert sum(writer.count for writer in writers) > 10, "the updates must overlap the paging"
    ids = [lead["id"] for lead in seen]
    assert matched <= set(ids)  # none skipped
    # The pages go forward in updated_at (shown to the second): a keyset never goes back.
    stamps = [lead["updated_at"] for lead in seen]
    assert stamps == sorted(stamps)
    appearances: dict[str, int] = {}
    for lead_id in ids:
        appearances[lead_id] = appearances.get(lead_id, 0) + 1
    for lead_id, count in appearances.items():
        if lead_id not in touched:
            assert count == 1, lead_id  # untouched: exactly once
    repeated = {lead_id for lead_id, count in appearances.items() if count > 1}
    assert repeated <= touched
    # A repeat is a newer version: the same lead's names differ (each update renames it).
    for lead_id in repeated:
        versions = [lead["name"] for lead in seen if lead["id"] == lead_id]
        assert len(versions) == len(set(versions)), lead_id
