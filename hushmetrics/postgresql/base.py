"""Django's PostgreSQL backend, with a pool health check that clears out a dead pool at once.

With `CONN_HEALTH_CHECKS`, Django gives psycopg's pool `ConnectionPool.check_connection`,
run on each connection before it is handed out. After PostgreSQL restarts or fails over,
every connection idling in the pool is dead, and the pool tries them one by one, backing off
1 s, 2 s, 4 s… between failed checks: with three or more idle connections, the next request
outlives the pool timeout and gets a 503 although the database is back. Here the first failed
check sweeps the whole pool (`pool.check()` drops every dead idle connection and starts new
ones), so the retry that follows gets a live connection.

psycopg's check is a round trip to the server on every checkout, paid by every request. Here
a connection used within the last `DB_POOL_CHECK_IDLE_SECONDS` is handed out after a look at
its socket instead (under a microsecond): an idle connection has nothing to read unless the
server ended it (a restart, a failover, `pg_terminate_backend` all send a FATAL message and
close it), and anything to read sends it through the full check. A connection idle longer
than that gets the full check, for the deaths that leave nothing on the socket (a firewall
or a NAT forgetting it).
"""

import select
import time
import weakref
from typing import Any

from django.conf import settings
from django.db.backends.postgresql import base
from psycopg import Connection
from psycopg_pool import ConnectionPool


class SweepingCheck:
    """The pool's connection check: psycopg's own, and a sweep of the pool when it fails."""

    def __init__(self, pool: ConnectionPool) -> None:
        self.pool = pool
        # When each connection was last handed out (its requests take milliseconds).
        self.handed_out: weakref.WeakKeyDictionary[Connection[Any], float] = (
            weakref.WeakKeyDictionary()
        )

    def __call__(self, conn: Connection[Any]) -> None:
        now = time.monotonic()
        last = self.handed_out.get(conn)
        self.handed_out[conn] = now
        recent = last is not None and now - last < settings.DB_POOL_CHECK_IDLE_SECONDS
        if recent and not _has_input(conn):
            return
        try:
            ConnectionPool.check_connection(conn)
        except Exception:
            # One dead connection means the server went away: those idling beside it died too.
            self.pool.check()
            raise


def _has_input(conn: Connection[Any]) -> bool:
    """Something (a FATAL message, the end of the stream) waits on an idle connection."""
    poller = select.poll()
    poller.register(conn.pgconn.socket, select.POLLIN)
    return bool(poller.poll(0))


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
