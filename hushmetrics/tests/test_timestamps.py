"""The API's and the CSV export's timestamps: both UTC, `+00:00`; they differ in precision."""

from datetime import datetime, timedelta, timezone

from hushmetrics.timestamps import api_timestamp, csv_timestamp

# 14:00:00.123456 at UTC+2 is 12:00:00.123456 UTC.
WHEN = datetime(2026, 3, 9, 14, 0, 0, 123456, tzinfo=timezone(timedelta(hours=2)))


def test_the_api_writes_whole_seconds_in_utc():
    assert api_timestamp(WHEN) == "2026-03-09T12:00:00+00:00"


def test_the_csv_export_keeps_microseconds_and_leaves_a_missing_time_empty():
    assert csv_timestamp(WHEN) == "2026-03-09T12:00:00.123456+00:00"
    assert csv_timestamp(None) == ""
