"""Django's PostgreSQL backend, with a pool health check that clears out a dead pool at once.

With `CONN_HEALTH_CHECKS`, Django gives psycopg's pool `ConnectionPool.check_connection`,
run on each connection before it is handed out. After PostgreSQL restarts or fails over,
every connection idling in the pool is dead, and the pool tries them one by one, backing off
1 s, 2 s, 4 s… between failed checks: with three or more idle connections, the next request
outlives the pool timeout and gets a 503 although the database is back. Here the first failed
check sweeps the whole pool (`pool.check()` drops every dead idle connection and starts new
ones), so the retry that follows gets a live connection.
"""

from typing import Any

from django.db.backends.postgresql import base
from psycopg import Connection
from psycopg_pool import ConnectionPool


class SweepingCheck:
    """The pool's connection check: psycopg's own, and a sweep of the pool when it fails."""

    def __init__(self, pool: ConnectionPool) -> None:
        self.pool = pool

    def __call__(self, conn: Connection[Any]) -> None:
        try:
            ConnectionPool.check_connection(conn)
        except Exception:
            # One dead connection means the server went away: those idling beside it died too.
            self.pool.check()
            raise


class DatabaseWrapper(base.DatabaseWrapper):
    @property
    def pool(self) -> ConnectionPool | None:
        pool: ConnectionPool | None = super().pool
        # psycopg-pool has no public setter for the check it was built with (Django builds
        # the pool and passes its own); test_database_faults proves this one is in place.
        if pool is None or not self.settings_dict["CONN_HEALTH_CHECKS"]:
            return pool
        if not isinstance(pool._check, SweepingCheck):  # noqa: SLF001
            pool._check = SweepingCheck(pool)  # noqa: SLF001
        return pool
