"""Where a request's time goes: per endpoint, in-process, on PostgreSQL + Redis.

Runs each benchmarked endpoint N times through Django's full handler (middleware, DRF,
the real database and cache, no network or gunicorn in between) and prints per request:
mean time, SQL statements, Redis commands (each a round trip) and, with
--cprofile, the functions that cost the most. It complements `make bench`: wrk says how
fast, this says why.

    python bench/profile_requests.py [--requests 500] [--cprofile "create-lead"]
        [--only "create-lead" "opt-in new lead"]

Uses its own database (hushmetrics_profile, recreated) and its own redis-server (port 18091).
PROFILE_SETTINGS names another settings module to profile under (an experiment's, e.g. one
with fewer middleware), PROFILE_DATABASE_URL another database, PROFILE_REDIS_PORT another
port (two sessions profiling at once).
"""

import argparse
import cProfile
import json
import os
import pstats
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

DB_URL = os.environ.get(
    "PROFILE_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/hushmetrics_profile"
)
REDIS_PORT = int(os.environ.get("PROFILE_REDIS_PORT", "18091"))
REDIS_URL = f"redis://127.0.0.1:{REDIS_PORT}/0"
os.environ.update(
    {
        "DATABASE_URL": DB_URL,
        "REDIS_URL": REDIS_URL,
        "DEBUG": "0",
        "RATE_LIMIT_OPTIN": "1000000/m",
        "RATE_LIMIT_CREATE_LEAD": "1000000/m",
        "RATE_LIMIT_WEBHOOK": "1000000/m",
        "RATE_LIMIT_WEBHOOK_WORKSPACE": "1000000/m",
        "RATE_LIMIT_AUTH_FAILURES": "1000000/m",
        "LOG_LEVEL": "warning",
        # "(1 webhook)": the broker is this script's own redis-server (nothing consumes).
        "CELERY_BROKER_URL": f"redis://127.0.0.1:{REDIS_PORT}/1",
        "OUTBOUND_ALLOW_PRIVATE_NETWORKS": "1",
        # The production settings plus the baseline endpoint (bench/baseline/).
        "DJANGO_SETTINGS_MODULE": os.environ.get("PROFILE_SETTINGS", "bench.baseline.settings"),
    }
)
os.environ.setdefault("SECRET_KEY", "profile-" + "x" * 50)


REDIS_ROUND_TRIPS = [0]


def count_redis_round_trips() -> None:
    """Count every command the app sends (each is one round trip; it pipelines none)."""
    import redis

    send = redis.Redis.execute_command

    def counted(self, *args, **options):
        REDIS_ROUND_TRIPS[0] += 1
        return send(self, *args, **options)

    redis.Redis.execute_command = counted  # type: ignore[method-assign]  # counted on purpose, for the profile


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--cprofile", action="append", default=[], help="endpoint name")
    parser.add_argument("--sort", default="cumulative", help="cProfile sort key (tottime…)")
    parser.add_argument(
        "--only", nargs="+", metavar="ENDPOINT", help="profile these (and the baseline) only"
    )
    args = parser.parse_args()

    dbname = DB_URL.rsplit("/", 1)[1]
    admin_url = DB_URL.rsplit("/", 1)[0] + "/postgres"
    subprocess.run(["psql", admin_url, "-qc", f"DROP DATABASE IF EXISTS {dbname}"], check=True)
    subprocess.run(["psql", admin_url, "-qc", f"CREATE DATABASE {dbname}"], check=True)

    redis_server = subprocess.Popen(
        ["redis-server", "--port", str(REDIS_PORT), "--bind", "127.0.0.1", "--save", ""]
        + ["--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    try:
        time.sleep(0.5)
        return profile(args)
    finally:
        redis_server.terminate()
        redis_server.wait()


def profile(args: argparse.Namespace) -> int:
    import django

    django.setup()
    import redis
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from bench.load_bench import CREATE_LEAD, OPTIN_EXISTING, OPTIN_NEW, OPTIN_REPLAY, WEBHOOK
    from outbound.services import destination_create
    from workspaces.services import api_key_issue, workspace_create

    call_command("migrate", verbosity=0)
    redis.Redis.from_url(REDIS_URL).flushdb()
    count_redis_round_trips()
    workspace = workspace_create(name="Profile")
    key = api_key_issue(workspace=workspace, name="profile").plaintext
    client = Client(HTTP_HOST="127.0.0.1")
    counter = iter(range(10**9))

    def fill(body: dict) -> str:
        return json.dumps(body).replace("{id}", str(next(counter)))

    ws = str(workspace.id)
    # The same requests to a workspace with one webhook destination (make bench's lines).
    hooked = workspace_create(name="Profile outbound")
    destination_create(workspace=hooked, kind="webhook", target="http://127.0.0.1:9/hook")
    hk = str(hooked.id)
    keyed: dict[str, Any] = {"HTTP_X_API_KEY": key}
    form = "name=John+Smith&email=john%40example.com&source=website&utm_source=google"
    cases = {
        "baseline": (
            "/v1/bench-baseline",
            "application/json",
            CREATE_LEAD | {"workspace_id": ws},
            {},
        ),
        "create-lead": (
            "/v1/create-lead",
            "application/json",
            CREATE_LEAD | {"workspace_id": ws},
            {},
        ),
        "webhook JSON": (f"/v1/webhook/{ws}", "application/json", WEBHOOK, {}),
        "webhook form": (f"/v1/webhook/{ws}", "application/x-www-form-urlencoded", form, {}),
        "create-lead (1 webhook)": (
            "/v1/create-lead",
            "application/json",
            CREATE_LEAD | {"workspace_id": hk},
            {},
        ),
        "webhook JSON (1 webhook)": (f"/v1/webhook/{hk}", "application/json", WEBHOOK, {}),
        "opt-in new lead": ("/api/opt-in/submit", "application/json", OPTIN_NEW, keyed),
        "opt-in existing lead": ("/api/opt-in/submit", "application/json", OPTIN_EXISTING, keyed),
        "opt-in replay": ("/api/opt-in/submit", "application/json", OPTIN_REPLAY, keyed),
    }
    primer = {k: v for k, v in OPTIN_EXISTING.items() if k != "external_reference"}
    for primed in (primer, OPTIN_REPLAY):
        client.post("/api/opt-in/submit", json.dumps(primed), "application/json", **keyed)

    header = f"{'ms/req':>8}{'× base':>8}{'CPU ms':>8}{'× base':>8}{'SQL':>6}{'Redis':>7}"
    print(f"{'endpoint':<26}{header}")
    baseline_ms = baseline_cpu_ms = None
    for name, (path, content_type, body, headers) in cases.items():
        if args.only and name != "baseline" and name not in args.only:
            continue

        def send(name=name, path=path, content_type=content_type, body=body, headers=headers):
            data = body if isinstance(body, str) else fill(body)
            response = client.post(path, data, content_type, **headers)
            if response.status_code >= 300:
                raise SystemExit(f"{name}: {response.status_code} {response.content[:200]!r}")

        for _ in range(20):  # warm up: imports, pool, caches
            send()
        queries: list[str] = []

        def record(execute, sql, *args, queries=queries):
            queries.append(sql)
            return execute(sql, *args)

        with connection.execute_wrapper(record):
            send()
        before = REDIS_ROUND_TRIPS[0]
        send()
        redis_per_request = REDIS_ROUND_TRIPS[0] - before
        profiler = cProfile.Profile() if name in args.cprofile else None
        started, cpu_started = time.perf_counter(), time.process_time()
        if profiler:
            profiler.enable()
        for _ in range(args.requests):
            send()
        if profiler:
            profiler.disable()
        ms = (time.perf_counter() - started) * 1000 / args.requests
        cpu_ms = (time.process_time() - cpu_started) * 1000 / args.requests
        baseline_ms = baseline_ms or ms
        baseline_cpu_ms = baseline_cpu_ms or cpu_ms
        print(
            f"{name:<26}{ms:>8.2f}{baseline_ms / ms:>8.2f}"
            f"{cpu_ms:>8.2f}{baseline_cpu_ms / cpu_ms:>8.2f}{len(queries):>6}{redis_per_request:>7}"
        )
        if profiler:
            pstats.Stats(profiler).sort_stats(args.sort).print_stats(40)
    return 0


if __name__ == "__main__":
    sys.exit(main())
