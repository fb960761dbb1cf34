"""Files posted to the webhook through a real gunicorn worker: read as they stream, never held
in memory or written to disk; the lead keeps each file's name, size and type (SPEC A.2)."""

import http.client
import json
import os
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hushmetrics.limits import DEFAULT_MAX_UPLOAD_BYTES, MiB
from hushmetrics.tests.gunicorn_server import gunicorn, manage

PORTS = range(19500, 19550)  # this suite's own
BOUNDARY = "----hushmetrics-upload-test"
RSS_LIMIT_KB = 150 * 1024


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[tuple[int, str, Path, Path, Path]]:
    """One sync gunicorn worker, defaults for every limit, on its own SQLite file and temp
    directory; yields (port, workspace id, database, master pid file, temp directory)."""
    tmp = tmp_path_factory.mktemp("uploads")
    db, pid_file, temp_dir = tmp / "uploads.sqlite3", tmp / "gunicorn.pid", tmp / "tmp"
    temp_dir.mkdir()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "MAX_BODY_BYTES", "MAX_UPLOAD_BYTES"}
    }
    env |= {"DATABASE_URL": f"sqlite:///{db}", "LOG_LEVEL": "WARNING", "TMPDIR": str(temp_dir)}
    manage(env, "migrate", "-v0")
    workspace = manage(env, "create_workspace", "Uploads")
    with gunicorn(env, PORTS, "--workers", "1", "--pid", str(pid_file)) as port:
        yield port, workspace, db, pid_file, temp_dir


def _worker_pid(pid_file: Path) -> int:
    """gunicorn's one worker: the child of the master whose pid is in `pid_file`."""
    master = pid_file.read_text().strip()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # a process that ended while we looked
        if fields[1] == master:  # after the name: state, ppid, …
            return int(stat.parent.name)
    raise AssertionError("no gunicorn worker found")


def _status_kb(pid: int, field: str) -> int:
    """A /proc/<pid>/status memory figure (VmRSS, VmHWM), in kB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} for {pid}")


def _multipart(fields: dict[str, str], file_field: str, file_name: str, size: int):
    """(a generator of the body's chunks, its length): the file's bytes made as they are sent,
    so the test itself holds no copy of them."""
    head = "".join(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'
        for key, value in fields.items()
    )
    head += (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{file_field}"; '
        f'filename="{file_name}"\r\nContent-Type: application/pdf\r\n\r\n'
    )
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()
    chunk = b"%PDF" * (64 * 1024 // 4)

    def chunks() -> Iterator[bytes]:
        yield head.encode()
        sent = 0
        while sent < size:
            piece = chunk[: size - sent]
            sent += len(piece)
            yield piece
        yield tail

    return chunks(), len(head.encode()) + size + len(tail)


def _post(port: int, path: str, body, length: int | None) -> tuple[int, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
    if length is None:
        headers["Transfer-Encoding"] = "chunked"
    else:
        headers["Content-Length"] = str(length)
    connection.request("POST", path, body=body, headers=headers, encode_chunked=length is None)
    response = connection.getresponse()
    answer = (response.status, json.loads(response.read()))
    connection.close()
    return answer


def _stored(db: Path, lead_id: str) -> tuple[str, str, dict]:
    with sqlite3.connect(db) as connection:
        name, email, extra = connection.execute(
            "SELECT name, email, extra_data FROM leads_lead WHERE id = ?",
            (lead_id.replace("-", ""),),
        ).fetchone()
    return name, email, json.loads(extra)


def test_a_20_mb_upload_is_stored_as_its_name_and_size_in_a_small_worker(server):
    port, workspace, db, pid_file, temp_dir = server
    worker = _worker_pid(pid_file)
    size = 20 * MiB
    body, length = _multipart(
        {"name": "Ana Silva", "email": "ana@example.com"}, "cv", "cv.pdf", size
    )
    samples: list[int] = []
    done = threading.Event()

    def sample_rss() -> None:
        while not done.is_set():
            samples.append(_status_kb(worker, "VmRSS"))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample_rss)
    sampler.start()
    try:
        status, lead = _post(port, f"/v1/webhook/{workspace}", body, length)
    finally:
        done.set()
        sampler.join()

    assert status == 201, lead
    described = {"name": "cv.pdf", "size": size, "content_type": "application/pdf"}
    assert lead["extra_data"] == {"cv": described}
    assert _stored(db, lead["id"]) == ("Ana Silva", "ana@example.com", {"cv": described})
    # The worker's peak resident set over its whole life (VmHWM), and what we saw while the
    # 20 MB went through: a fraction of the file, far from holding it.
    peak_kb = _status_kb(worker, "VmHWM")
    assert samples
    assert max(samples) < RSS_LIMIT_KB
    assert peak_kb < RSS_LIMIT_KB, f"worker peak RSS {peak_kb} kB"
    assert list(temp_dir.iterdir()) == []  # nothing spooled to disk either


def test_a_chunked_upload_is_streamed_too(server):
    port, workspace, db, _, _ = server
    size = 3 * MiB  # past MAX_BODY_BYTES: buffered, it would be a 413
    body, _ = _multipart({"name": "Rui Costa"}, "portfolio", "work.pdf", size)

    status, lead = _post(port, f"/v1/webhook/{workspace}", body, None)

    assert status == 201, lead
    described = {"name": "work.pdf", "size": size, "content_type": "application/pdf"}
    assert _stored(db, lead["id"]) == ("Rui Costa", "", {"portfolio": described})


def _refused(port: int, request: bytes, body: Iterator[bytes]) -> tuple[int, dict]:
    """Send `request` (the head) and then `body` on a bare socket, and read the answer.

    The client sends no byte past those the server reads (no more than MAX_UPLOAD_BYTES + 1):
    a server that closes with bytes unread resets the connection, which may cost the client
    the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=60) as client:
        client.sendall(request)
        for piece in body:
            client.sendall(piece)
        response = http.client.HTTPResponse(client)
        response.begin()
        return response.status, json.loads(response.read())


def _head(workspace: str, **headers: str) -> bytes:
    lines = [f"POST /v1/webhook/{workspace} HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"Content-Type: multipart/form-data; boundary={BOUNDARY}"]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def test_an_upload_announced_past_max_upload_bytes_is_a_413_before_any_is_read(server):
    port, workspace, _, _, _ = server
    limit = DEFAULT_MAX_UPLOAD_BYTES

    status, error = _refused(port, _head(workspace, Content_Length=str(limit + 1)), iter(()))

    assert status == 413
    assert error == {"message": f"Request body too large (limit {limit} bytes)"}


def test_a_chunked_upload_past_max_upload_bytes_is_a_413(server):
    port, workspace, _, _, _ = server
    limit = DEFAULT_MAX_UPLOAD_BYTES
    body, _ = _multipart({"name": "Too Big"}, "cv", "big.pdf", limit)

    def one_byte_past_the_limit() -> Iterator[bytes]:
        """A whole chunked body of MAX_UPLOAD_BYTES + 1 bytes: the last one is the 413."""
        sent = 0
        for piece in body:
            piece = piece[: limit + 1 - sent]
            sent += len(piece)
            yield b"%x\r\n%s\r\n" % (len(piece), piece)
            if sent > limit:
                break
        yield b"0\r\n\r\n"

    status, error = _refused(
        port, _head(workspace, Transfer_Encoding="chunked"), one_byte_past_the_limit()
    )

    assert status == 413
    assert error == {"message": f"Request body too large (limit {limit} bytes)"}
