"""The Redis broker transport, with one crash of kombu's fixed.

When a worker loses its Redis broker while it holds unacknowledged messages, Celery's
consumer collects the lost connection (which detaches kombu's transport from it) and then
closes it; if the first close of the channel failed on the dead socket, the second one
restores the unacknowledged messages through a transport without a client and raises
AttributeError. That is not a connection error, so nothing catches it: the worker logs
"Unrecoverable error" and exits (seen in bench/faults.py, broker stopped for 10 s). Here the
detached transport raises a connection error instead, which the closing code ignores, and
the worker reconnects. The messages stay in Redis's unacked set (restored after the
visibility timeout), and the delivery rows are re-rung by the sweep anyway.
"""

from typing import Any

from kombu.transport import redis
from redis.exceptions import ConnectionError as RedisConnectionError


class Channel(redis.Channel):
    def _connparams(self, asynchronous: bool = False) -> Any:
        if self.connection.client is None:
            raise RedisConnectionError("the broker connection is closed")
        return super()._connparams(asynchronous)  # type: ignore[misc]  # not in the kombu stubs


class Transport(redis.Transport):
    Channel = Channel
