"""deploy/serve.py renders nginx's body limit from the app's own defaults (hushmetrics/limits)."""

import importlib.util
import re

import pytest
from django.conf import settings

from hushmetrics.limits import DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_UPLOAD_BYTES, MiB
from hushmetrics.tests.gunicorn_server import PROJECT


def _serve():
    spec = importlib.util.spec_from_file_location("serve", PROJECT / "deploy" / "serve.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _rendered_limits(tmp_path, monkeypatch, **env: str) -> tuple[int, int]:
    for name in ("MAX_BODY_BYTES", "MAX_UPLOAD_BYTES"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    text = _serve().render(tmp_path, listen="127.0.0.1:1", upstream="127.0.0.1:2").read_text()
    nginx = re.search(r"client_max_body_size (\d+);", text)
    message = re.search(r"Request body too large \(limit (\d+) bytes\)", text)
    assert nginx is not None and message is not None
    return int(nginx.group(1)), int(message.group(1))


def test_the_defaults_are_the_documented_ones():
    assert 1 * MiB == DEFAULT_MAX_BODY_BYTES
    assert 25 * MiB == DEFAULT_MAX_UPLOAD_BYTES


def test_the_app_takes_its_limits_from_the_same_defaults():
    # The test run sets neither MAX_BODY_BYTES nor MAX_UPLOAD_BYTES.
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE == DEFAULT_MAX_BODY_BYTES
    assert settings.MAX_UPLOAD_BYTES == DEFAULT_MAX_UPLOAD_BYTES


@pytest.mark.parametrize(
    ("env", "largest"),
    [
        ({}, DEFAULT_MAX_UPLOAD_BYTES),
        ({"MAX_UPLOAD_BYTES": "4096", "MAX_BODY_BYTES": "4096"}, 4096),
        ({"MAX_BODY_BYTES": str(30 * MiB)}, 30 * MiB),
        ({"MAX_UPLOAD_BYTES": str(40 * MiB)}, 40 * MiB),
    ],
)
def test_nginx_takes_twice_the_largest_body_the_app_takes(tmp_path, monkeypatch, env, largest):
    assert _rendered_limits(tmp_path, monkeypatch, **env) == (2 * largest, largest)
