"""Production settings: `check --deploy` and the refusal to start without a SECRET_KEY."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "api.example.com",
    "DEBUG": "0",
}
TLS = {
    "SECURE_SSL_REDIRECT": "1",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "1",
    "SECURE_HSTS_PRELOAD": "1",
    "SECURE_COOKIES": "1",
    "SECURE_PROXY_SSL_HEADER": "1",
}


def _manage(*args: str, env: dict[str, str], cwd: Path = PROJECT) -> subprocess.CompletedProcess:
    drop = {"SECRET_KEY", "DATABASE_URL", "REDIS_URL", *TLS}
    clean = {k: v for k, v in os.environ.items() if k not in drop}
    return subprocess.run(  # noqa: S603
        [sys.executable, str(PROJECT / "manage.py"), *args],
        cwd=cwd,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


# What production runs on (checks never connect to either), and the SQLite quick start.
SERVICES = {
    "postgres-redis": {
        "DATABASE_URL": "postgres://hushmetrics@db.internal:5432/hushmetrics",
        "REDIS_URL": "redis://cache.internal:6379/0",
    },
    "quick-start": {},
}


@pytest.mark.parametrize("services", SERVICES.values(), ids=SERVICES.keys())
def test_check_deploy_is_clean_with_tls_switched_on(services):
    env = {**PRODUCTION, **TLS, **services}
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_without_tls_flags_only_what_a_tls_proxy_fixes():
    result = _manage("check", "--deploy", env=PRODUCTION)
    found = set(re.findall(r"\(([\w.]+)\)", result.stderr + result.stdout))
    # W010: SESSION_COOKIE_SECURE (Django names the sessions app; its middleware is ours, the
    # API path's lean subclass, which the check does not recognise by name).
    assert found == {"security.W004", "security.W008", "security.W010", "security.W016"}


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    # A copy of the settings' directory layout without the quick start's .secret_key file.
    env = {"PYTHONPATH": str(tmp_path), "DJANGO_SETTINGS_MODULE": "hushmetrics.settings"}
    (tmp_path / "hushmetrics").mkdir()
    settings_src = (PROJECT / "hushmetrics" / "settings.py").read_text()
    (tmp_path / "hushmetrics" / "__init__.py").write_text("")
    (tmp_path / "hushmetrics" / "settings.py").write_text(settings_src)
    # The request-size defaults the settings share with deploy/serve.py.
    limits_src = (PROJECT / "hushmetrics" / "limits.py").read_text()
    (tmp_path / "hushmetrics" / "limits.py").write_text(limits_src)
    clean = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", "import hushmetrics.settings"],
        cwd=tmp_path,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr
