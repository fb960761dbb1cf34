"""Load benchmark (`make bench`): every write endpoint against a same-run baseline.

Starts the service the way `make serve` does (gunicorn.conf.py, PostgreSQL + Redis, DEBUG
off), with 2 CPU cores' worth of workers and raised rate limits, then drives each endpoint
with wrk for the same duration and connections, in interleaved rounds, and prints per
endpoint requests/s, p50, p99, errors, the ratio to the baseline (a bench-only view that
parses the JSON body and inserts one row, served by the same gunicorn) measured in the same
run, and the gunicorn workers' CPU time per request; plus the peak RSS of a worker.

    python bench/load_bench.py [--duration 6] [--rounds 3] [--connections 16]
                               [--front nginx|none|both]

`--front both` runs `make serve`'s topology and measures every endpoint twice per round,
through nginx and straight to the same gunicorn, interleaved: what the proxy costs, free of
the run-to-run noise two separate runs carry.

Needs wrk (Debian package `wrk`), PostgreSQL and Redis on 127.0.0.1. Uses its own database
(hushmetrics_bench, recreated) and Redis db 8; nothing else is touched.
"""

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
PYTHON = str(PROJECT / ".venv" / "bin" / "python")
GUNICORN = str(PROJECT / ".venv" / "bin" / "gunicorn")
PORT = 18090
BASE = f"http://127.0.0.1:{PORT}"
# `--front both`: gunicorn's own address behind nginx, measured directly as well.
DIRECT_PORT = PORT + 1
DIRECT = f"http://127.0.0.1:{DIRECT_PORT}"
TARGETS = {
    "create-lead": 0.8,
    "webhook JSON": 0.8,
    "webhook form": 0.8,
    "opt-in new lead": 0.5,
}

CREATE_LEAD = {
    "name": "Jane Doe",
    "email": "jane@example.com",
    "phone": "+1234567890",
    "source": "website",
    "value": 500,
    "utm": {"utm_source": "google", "utm_medium": "cpc"},
    "extra_data": {"company": "Acme Inc", "role": "CTO"},
    "page_url": "https://example.com/pricing",
}
WEBHOOK = {
    "name": "John Smith",
    "email": "john@example.com",
    "source": "website",
    "utm_source": "google",
    "utm_medium": "cpc",
    "company": "Acme Inc",
    "message": "I'd like a demo",
}
QA = [{"question": "What is your biggest challenge?", "answer": "Leads", "position": 0}]
TRAFFIC = {"utm_source": "facebook", "utm_medium": "paid", "utm_campaign": "q1"}
# `{id}` is replaced per request: new emails make new leads, new references new opt-ins.
OPTIN_NEW = {
    "email": "new-{id}@example.com",
    "first_name": "John",
    "last_name": "Doe",
    "source": "LANDING_PAGE",
    "questions_answers": QA,
    "traffic": TRAFFIC,
}
OPTIN_EXISTING = {
    "email": "Existing@Example.com",
    "first_name": "Eve",
    "source": "WEBINAR",
    "external_reference": "ref-{id}",
    "questions_answers": QA,
}
OPTIN_REPLAY = {
    "email": "replay@example.com",
    "first_name": "Rae",
    "source": "TYPEFORM",
    "external_reference": "typeform-submission-abc123",
}

# wrk scripts: each request unique where the endpoint would otherwise dedupe.
LUA_COMMON = """
wrk.method = "POST"
local counter = 0
local thread_id = tostring(math.random(1, 1e9))
function next_id()
  counter = counter + 1
  return thread_id .. "-" .. counter
end
"""


def lua(path: str, content_type: str, body: str, headers: dict[str, str] | None = None) -> str:
    """A wrk script posting `body`, with every `{id}` in it replaced by a fresh id."""
    header_lines = "\n".join(f'  wrk.headers["{k}"] = "{v}"' for k, v in (headers or {}).items())
    return (
        LUA_COMMON
        + f"""
local body = [==[{body}]==]
function request()
  wrk.headers["Content-Type"] = "{content_type}"
{header_lines}
  local this_body = body:gsub("{{id}}", next_id())
  return wrk.format("POST", "{path}", nil, this_body)
end
"""
    )


def run(cmd: list[str], env: dict[str, str]) -> str:
    result = subprocess.run(cmd, env=env, cwd=PROJECT, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{result.stderr}")
    return result.stdout.strip()


def wait_healthy(timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{BASE}/v1/health", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("gunicorn did not become healthy")


def _found(match: re.Match[str] | None, what: str) -> re.Match[str]:
    if match is None:
        raise SystemExit(f"wrk's output has no {what}")
    return match


def parse_wrk(output: str) -> dict[str, float]:
    def to_ms(text: str) -> float:
        value, unit = _found(re.fullmatch(r"([\d.]+)(us|ms|s)", text), "latency").groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    rps = float(_found(re.search(r"Requests/sec:\s+([\d.]+)", output), "Requests/sec").group(1))
    p50 = to_ms(_found(re.search(r"^\s+50%\s+(\S+)", output, re.M), "50%").group(1))
    p99 = to_ms(_found(re.search(r"^\s+99%\s+(\S+)", output, re.M), "99%").group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    socket = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    errors = int(non2xx.group(1)) if non2xx else 0
    if socket:
        errors += sum(int(n) for n in socket.groups())
    total = int(_found(re.search(r"(\d+) requests in", output), "request count").group(1))
    return {"rps": rps, "p50": p50, "p99": p99, "errors": errors, "requests": total}


def gunicorn_master(pid: int) -> int:
    """`pid` if it is gunicorn's master, else its child that is (deploy/serve.py's)."""
    if b"gunicorn" in Path(f"/proc/{pid}/cmdline").read_bytes():
        return pid
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        if b"gunicorn" in Path(f"/proc/{child}/cmdline").read_bytes():
            return int(child)
    raise SystemExit("gunicorn's master process not found")


def worker_peak_rss_mb(master_pid: int) -> float:
    peak = 0
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    for pid in children:
        status = Path(f"/proc/{pid}/status").read_text()
        match = re.search(r"VmHWM:\s+(\d+) kB", status)
        if match:
            peak = max(peak, int(match.group(1)))
    return peak / 1024


def workers_cpu_seconds(master_pid: int) -> float:
    """User + system CPU the gunicorn workers have used so far (from /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    for pid in children:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return total


def nginx_master(pid: int) -> int | None:
    """deploy/serve.py's nginx master process, if `pid` is serve.py."""
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        if b"nginx" in Path(f"/proc/{child}/cmdline").read_bytes():
            return int(child)
    return None


def median_round(measured: list[dict[str, float]]) -> dict[str, float]:
    """The round with the median requests/s; errors summed over every round."""
    ordered = sorted(measured, key=lambda figures: figures["rps"])
    chosen = dict(ordered[len(ordered) // 2])
    chosen["errors"] = sum(figures["errors"] for figures in measured)
    return chosen


def report(results: dict[str, dict[str, float]]) -> list[str]:
    """Print one table of figures with their ratios to its baseline; what missed a target."""
    baseline = results["baseline"]["rps"]
    print(
        f"{'endpoint':<22}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}{'× base':>8}"
        f"{'target':>8}{'app CPU ms/req':>16}"
    )
    failed = []
    for name, figures in results.items():
        ratio = figures["rps"] / baseline
        target = TARGETS.get(name)
        verdict = "" if target is None else (f"≥{target}" if ratio >= target else f"<{target}!")
        if target is not None and ratio < target:
            failed.append(name)
        if figures["errors"]:
            failed.append(f"{name} errors")
        print(
            f"{name:<22}{figures['rps']:>9.0f}{figures['p50']:>9.1f}{figures['p99']:>9.1f}"
            f"{figures['errors']:>8}{ratio:>8.2f}{verdict:>8}{figures['cpu_ms']:>16.2f}"
        )
    return failed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=6, help="seconds per endpoint and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--only", nargs="+", metavar="ENDPOINT", help="measure these (and the baseline) only"
    )
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2 * 2 + 1, help="2 cores' worth: 2×2+1")
    parser.add_argument(
        "--front",
        choices=["nginx", "none", "both"],
        default="nginx",
        help="nginx in front of gunicorn, as make serve runs (default), gunicorn alone, or "
        "both: through nginx and straight to its gunicorn, interleaved in one run",
    )
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk not found: apt-get install wrk")

    db_url = os.environ.get(
        "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/hushmetrics_bench"
    )
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/8"),
        "SECRET_KEY": os.environ.get("SECRET_KEY", "bench-" + "x" * 50),
        "DEBUG": "0",
        # The production settings plus the baseline endpoint (bench/baseline/).
        "DJANGO_SETTINGS_MODULE": "bench.baseline.settings",
        "RATE_LIMIT_OPTIN": "1000000/m",
        "RATE_LIMIT_CREATE_LEAD": "1000000/m",
        "RATE_LIMIT_WEBHOOK": "1000000/m",
        "RATE_LIMIT_WEBHOOK_WORKSPACE": "1000000/m",
        "RATE_LIMIT_AUTH_FAILURES": "1000000/m",
        "WEB_CONCURRENCY": str(args.workers),
        "BIND": f"127.0.0.1:{PORT}",
        "LOG_LEVEL": "warning",
        # No recycling mid-run: a recycled worker would take its CPU time and peak RSS along.
        "GUNICORN_MAX_REQUESTS": "0",
    }
    dbname = db_url.rsplit("/", 1)[1]
    admin_url = db_url.rsplit("/", 1)[0] + "/postgres"
    subprocess.run(["psql", admin_url, "-qc", f"DROP DATABASE IF EXISTS {dbname}"], check=True)
    subprocess.run(["psql", admin_url, "-qc", f"CREATE DATABASE {dbname}"], check=True)
    run([PYTHON, "manage.py", "migrate", "-v0"], env)
    run(["redis-cli", "-n", "8", "flushdb"], env)
    workspace = run([PYTHON, "manage.py", "create_workspace", "Bench"], env)
    key = run([PYTHON, "manage.py", "issue_api_key", "--workspace", workspace, "--name", "b"], env)

    with tempfile.TemporaryDirectory() as tmp:
        as_json = json.dumps
        opt_in = {"x-api-key": key}
        scripts = {
            # The same documented lead, stored unchecked: the same row as create-lead writes.
            "baseline": lua(
                "/bench/baseline",
                "application/json",
                as_json(CREATE_LEAD | {"workspace_id": workspace}),
            ),
            "create-lead": lua(
                "/v1/create-lead",
                "application/json",
                as_json(CREATE_LEAD | {"workspace_id": workspace}),
            ),
            "webhook JSON": lua(f"/v1/webhook/{workspace}", "application/json", as_json(WEBHOOK)),
            "webhook form": lua(
                f"/v1/webhook/{workspace}",
                "application/x-www-form-urlencoded",
                "name=John+Smith&email=john%40example.com&source=website&utm_source=google",
            ),
            "opt-in new lead": lua(
                "/api/opt-in/submit", "application/json", as_json(OPTIN_NEW), opt_in
            ),
            "opt-in existing lead": lua(
                "/api/opt-in/submit", "application/json", as_json(OPTIN_EXISTING), opt_in
            ),
            "opt-in replay": lua(
                "/api/opt-in/submit", "application/json", as_json(OPTIN_REPLAY), opt_in
            ),
        }
        if args.only:
            scripts = {k: v for k, v in scripts.items() if k == "baseline" or k in args.only}
        paths = {}
        for name, script in scripts.items():
            paths[name] = Path(tmp) / (re.sub(r"\W+", "_", name) + ".lua")
            paths[name].write_text(script)

        # gunicorn's error log goes to a file: an unread pipe could fill and stall it.
        server_log = (Path(tmp) / "gunicorn.log").open("w")
        command = (
            [GUNICORN, "-c", "gunicorn.conf.py", "hushmetrics.wsgi:application"]
            if args.front == "none"
            else [PYTHON, "deploy/serve.py"]
        )
        if args.front == "both":
            env["UPSTREAM_BIND"] = f"127.0.0.1:{DIRECT_PORT}"
        fronts = {"direct": DIRECT, "nginx": BASE} if args.front == "both" else {args.front: BASE}
        server = subprocess.Popen(  # noqa: S603
            command,
            cwd=PROJECT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=server_log,
        )
        try:
            wait_healthy()
            master = gunicorn_master(server.pid)
            proxy = nginx_master(server.pid) if args.front != "none" else None
            # Prime the existing-lead and replay cases so they measure what their names say.
            primer = {k: v for k, v in OPTIN_EXISTING.items() if k != "external_reference"}
            for body in (primer, OPTIN_REPLAY):
                request = urllib.request.Request(  # noqa: S310
                    f"{BASE}/api/opt-in/submit",
                    data=json.dumps(body).encode(),
                    method="POST",
                    headers={"Content-Type": "application/json", "x-api-key": key},
                )
                urllib.request.urlopen(request, timeout=10).read()  # noqa: S310
            for path in paths.values():
                # A short warm-up so every endpoint is measured with warm workers and pool.
                for url in fronts.values():
                    subprocess.run(
                        ["wrk", "-t2", "-c4", "-d2s", "-s", str(path), url],
                        capture_output=True,
                        check=True,
                    )
            # Rounds interleave the endpoints (and the fronts), so a busy spell on the machine
            # falls on all of them rather than on one; each one's figures are its median round.
            rounds: dict[tuple[str, str], list[dict[str, float]]] = {
                (front, name): [] for name in paths for front in fronts
            }
            for round_number in range(args.rounds):
                for (front, name), measured in rounds.items():
                    path = paths[name]
                    cpu_before = workers_cpu_seconds(master)
                    proxy_before = workers_cpu_seconds(proxy) if proxy else 0.0
                    output = subprocess.run(
                        [
                            "wrk",
                            "-t2",
                            f"-c{args.connections}",
                            f"-d{args.duration}s",
                            "--latency",
                            "-s",
                            str(path),
                            fronts[front],
                        ],
                        capture_output=True,
                        text=True,
                        check=True,
                    ).stdout
                    figures = parse_wrk(output)
                    cpu = workers_cpu_seconds(master) - cpu_before
                    figures["cpu_ms"] = cpu * 1000 / max(1, figures["requests"])
                    # nginx's workers, for requests that went through it.
                    proxy_cpu = workers_cpu_seconds(proxy) - proxy_before if proxy else 0.0
                    figures["proxy_cpu_ms"] = proxy_cpu * 1000 / max(1, figures["requests"])
                    measured.append(figures)
                    print(
                        f"  round {round_number + 1}/{args.rounds} {name}"
                        f"{f' ({front})' if len(fronts) > 1 else ''}: {figures['rps']:.0f} req/s",
                        file=sys.stderr,
                    )
            results = {key: median_round(measured) for key, measured in rounds.items()}
            peak_rss = worker_peak_rss_mb(master)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=40)
            server_log.close()

    names = list(paths)
    topology = {
        "nginx": " behind nginx (make serve)",
        "none": ", no proxy",
        "both": " behind nginx (make serve), each endpoint also straight to gunicorn",
    }[args.front]
    print(
        f"\nLoad benchmark: {args.workers} gunicorn workers × threads from gunicorn.conf.py"
        f"{topology}, wrk -t2 -c{args.connections} -d{args.duration}s per endpoint × "
        f"{args.rounds} interleaved rounds (median round shown), PostgreSQL + Redis"
    )
    failed = []
    for front in fronts:
        if len(fronts) > 1:
            print(f"\n{'through nginx' if front == 'nginx' else 'straight to gunicorn'}:")
        missed = report({name: results[front, name] for name in names})
        failed += [f"{name} ({front})" for name in missed] if len(fronts) > 1 else missed
    if len(fronts) > 1:
        print("\nnginx ÷ direct, same run (1.00: the proxy costs nothing); nginx's own CPU")
        print(f"{'endpoint':<22}{'req/s':>9}{'× base':>9}{'nginx CPU ms/req':>18}")
        for name in names:
            nginx, direct = results["nginx", name], results["direct", name]
            base_nginx = nginx["rps"] / results["nginx", "baseline"]["rps"]
            base_direct = direct["rps"] / results["direct", "baseline"]["rps"]
            print(
                f"{name:<22}{nginx['rps'] / direct['rps']:>9.2f}{base_nginx / base_direct:>9.2f}"
                f"{nginx['proxy_cpu_ms']:>18.2f}"
            )
    print(f"peak worker RSS: {peak_rss:.1f} MB (target < 150 MB)")
    if peak_rss >= 150:
        failed.append("worker RSS")
    print("targets met" if not failed else f"targets missed: {', '.join(failed)}")
    return 0 if not failed else 1


if __name__ == "__main__":
    sys.exit(main())
