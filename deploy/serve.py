"""`make serve`: nginx in front of gunicorn, both run by this one foreground command.

nginx (deploy/nginx.conf) listens on BIND and buffers each request whole before handing it
to gunicorn on a loopback port of its own, so slow clients cost gunicorn nothing (the
slowloris test in hushmetrics/tests/test_slow_clients.py). Ctrl-C or SIGTERM stops both
(gunicorn finishes its requests first); SIGHUP reloads both. If either exits, so does the
other, and this command with its status.

Environment: BIND (default 127.0.0.1:8000), CLIENT_TIMEOUT_SECONDS (10: the longest pause
nginx allows between two reads of a request), UPSTREAM_BIND (gunicorn's own loopback address;
default a free port: `make bench --front both` sets it to reach gunicorn directly too), and
everything gunicorn.conf.py and the app read. TRUSTED_PROXY_COUNT is 1: nginx is the one
proxy the app sees, and it replaces any X-Forwarded-For a client sends with the address it
saw.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import FrameType

PROJECT = Path(__file__).resolve().parent.parent
TEMPLATE = Path(__file__).resolve().parent / "nginx.conf"
# Run as `python deploy/serve.py`: the project's own modules are importable from its root.
if str(PROJECT) not in sys.path:
    sys.path.insert(0, str(PROJECT))

from hushmetrics.limits import DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_UPLOAD_BYTES  # noqa: E402


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def nginx_binary() -> str:
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")
    if not found:
        raise SystemExit("make serve: nginx not found (Debian: apt-get install nginx-light)")
    return found


def render(run: Path, *, listen: str, upstream: str) -> Path:
    """Write nginx.conf for this run into `run` (its pid and temp files live there too)."""
    # The same defaults as the app's settings (hushmetrics/limits.py): one number each.
    largest_body = max(
        int(os.environ.get("MAX_BODY_BYTES") or DEFAULT_MAX_BODY_BYTES),
        int(os.environ.get("MAX_UPLOAD_BYTES") or DEFAULT_MAX_UPLOAD_BYTES),
    )
    values = {
        "RUN": str(run),
        "LISTEN": listen,
        "UPSTREAM": upstream,
        "CLIENT_TIMEOUT": os.environ.get("CLIENT_TIMEOUT_SECONDS", "10"),
        # Twice the app's own limit: the app answers a body past its limit with its own 413.
        "MAX_BODY": str(2 * largest_body),
        "APP_BODY_LIMIT": str(largest_body),
    }
    text = TEMPLATE.read_text()
    for name, value in values.items():
        text = text.replace(f"@@{name}@@", value)
    config = run / "nginx.conf"
    config.write_text(text)
    return config


def main() -> int:
    listen = os.environ.get("BIND", "127.0.0.1:8000")
    upstream = os.environ.get("UPSTREAM_BIND") or f"127.0.0.1:{free_port()}"
    run = Path(tempfile.mkdtemp(prefix="hushmetrics-nginx-"))
    run.chmod(0o755)  # nginx's workers (nobody, when started as root) write temp files here
    config = render(run, listen=listen, upstream=upstream)
    nginx = nginx_binary()
    subprocess.run(  # noqa: S603
        [nginx, "-t", "-q", "-p", str(run), "-c", str(config)], check=True
    )

    env = {**os.environ, "BIND": upstream, "TRUSTED_PROXY_COUNT": "1"}
    gunicorn = subprocess.Popen(  # noqa: S603
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "-c",
            "gunicorn.conf.py",
            "hushmetrics.wsgi:application",
        ],
        cwd=PROJECT,
        env=env,
    )
    proxy = subprocess.Popen(  # noqa: S603
        [nginx, "-p", str(run), "-c", str(config), "-g", "daemon off;"]
    )
    children = (gunicorn, proxy)

    def forward(signum: int, frame: FrameType | None) -> None:
        for child in children:
            if child.poll() is None:
                # nginx stops gracefully on SIGQUIT; gunicorn on SIGTERM. SIGHUP reloads both.
                child.send_signal(
                    signal.SIGQUIT if child is proxy and signum != signal.SIGHUP else signum
                )

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, forward)
    print(f"Serving on http://{listen} (nginx in front of gunicorn on {upstream})", flush=True)
    try:
        while all(child.poll() is None for child in children):
            time.sleep(0.2)
    finally:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGQUIT if child is proxy else signal.SIGTERM)
        for child in children:
            try:
                child.wait(timeout=35)
            except subprocess.TimeoutExpired:
                child.kill()
        shutil.rmtree(run, ignore_errors=True)
    return next(child.returncode for child in children if child.returncode is not None) or 0


if __name__ == "__main__":
    sys.exit(main())
