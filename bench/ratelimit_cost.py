"""What counting one rate limit costs against a real Redis (enforce_rate_limit, as the views
call it): django-redis's own client (an add, then an incr: two round trips) against the
counting client (one), taking turns (issue 18).

    REDIS_URL=redis://127.0.0.1:6379/4 python bench/ratelimit_cost.py [--number 2000]

Uses the Redis database in REDIS_URL (its rl: keys only, under a group of its own).
"""

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hushmetrics.settings")
if not os.environ.get("REDIS_URL"):
    raise SystemExit("set REDIS_URL (a Redis database this may write rl: keys to)")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.test import RequestFactory, override_settings  # noqa: E402

from hushmetrics.ratelimit import enforce_rate_limit  # noqa: E402

CLIENTS = {
    "django-redis (add + incr)": "django_redis.client.DefaultClient",
    "counting client (one script)": "hushmetrics.ratelimit_cache.CountingClient",
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--number", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    request = RequestFactory().post("/")

    def count() -> None:
        enforce_rate_limit(request, group="bench", key="one client", rate="10000000/h")

    best = dict.fromkeys(CLIENTS, float("inf"))
    for _ in range(args.repeat):
        for name, client_class in CLIENTS.items():
            alias: dict[str, Any] = {**settings.CACHES["ratelimit"]}
            alias["OPTIONS"] = {**alias["OPTIONS"], "CLIENT_CLASS": client_class}
            with override_settings(CACHES={**settings.CACHES, "ratelimit": alias}):
                for _warm in range(50):  # the connection, the script loaded
                    count()
                started = time.perf_counter()
                for _call in range(args.number):
                    count()
                elapsed = time.perf_counter() - started
            best[name] = min(best[name], elapsed / args.number * 1e6)
    for name, us in best.items():
        print(f"{name:<32}{us:>8.1f} µs per counted limit")
    return 0


if __name__ == "__main__":
    sys.exit(main())
