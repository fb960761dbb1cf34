"""The two ways a timestamp leaves the service, both UTC with an explicit `+00:00`."""

from datetime import UTC, datetime


def api_timestamp(value: datetime) -> str:
    """For a JSON response (SPEC §2): whole seconds, `2026-03-09T12:00:00+00:00` (DRF would
    write `Z` and microseconds)."""
    return value.astimezone(UTC).replace(microsecond=0).isoformat()


def csv_timestamp(value: datetime | None) -> str:
    """For a CSV export: to the microsecond, so rows sort and compare exactly as stored; a
    missing time is an empty cell."""
    return value.astimezone(UTC).isoformat() if value is not None else ""
