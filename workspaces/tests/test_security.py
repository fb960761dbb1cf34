"""API keys stay secret: never in a log, an admin page or a response, and a wrong secret is
indistinguishable from an unknown prefix (same work, same bytes).

The real gunicorn (access log, error log, the app's stdout) is in
hushmetrics/tests/test_security_gunicorn.py.
"""

import hmac
import io
import logging
from collections.abc import Iterator

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.models import LogEntry
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from workspaces import services
from workspaces.keys import KEY_PREFIX, PUBLIC_LENGTH
from workspaces.models import ApiKey

pytestmark = pytest.mark.django_db

SUBMIT = "/api/opt-in/submit"
OPTIN = {"email": "jane@example.com", "first_name": "Jane", "source": "LANDING_PAGE"}


def secrets_of(plaintext: str) -> tuple[str, str]:
    """The whole key and its secret part (what follows `sk_live_` and the public prefix)."""
    return plaintext, plaintext[len(KEY_PREFIX) + PUBLIC_LENGTH :]


def assert_absent(plaintexts: list[str], *texts: str) -> None:
    for plaintext in plaintexts:
        for secret in secrets_of(plaintext):
            for text in texts:
                assert secret not in text


def wrong_secret(plaintext: str) -> str:
    return plaintext[:-1] + ("A" if plaintext[-1] != "A" else "B")


@pytest.fixture
def all_logs(caplog) -> Iterator[pytest.LogCaptureFixture]:
    """Every record of every logger at DEBUG, SQL statements and their parameters included."""
    caplog.set_level(logging.DEBUG)
    for name in list(logging.root.manager.loggerDict):
        caplog.set_level(logging.DEBUG, logger=name)
    # The database logs its statements only while queries are captured (or DEBUG is on).
    with CaptureQueriesContext(connection):
        yield caplog


def text_of(response) -> str:
    headers = "\n".join(f"{name}: {value}" for name, value in response.items())
    content = b"".join(response) if response.streaming else response.content
    return f"{response.status_code}\n{headers}\n\n{content.decode()}"


def command(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


# --- never in a log, a response, or a command's output (issue_api_key's stdout excepted) ---


def test_the_key_is_in_no_log_and_no_response_of_either_surface(all_logs, workspace):
    out, err = command("issue_api_key", "--workspace", str(workspace.id), "--name", "Typeform")
    key = out.strip()
    assert ApiKey.objects.get().prefix == key[len(KEY_PREFIX) :][:PUBLIC_LENGTH]
    assert_absent([key], err)  # stdout is the one place the key is shown, by design
    client = APIClient()
    bad = wrong_secret(key)
    webhook = f"/v1/webhook/{workspace.id}"
    create = {"workspace_id": str(workspace.id), "name": "Ana"}

    responses = [
        client.post(SUBMIT, OPTIN, format="json", HTTP_X_API_KEY=key),
        client.post(SUBMIT, OPTIN, format="json", HTTP_AUTHORIZATION=f"Bearer {key}"),
        client.post(SUBMIT, OPTIN, format="json", HTTP_X_API_KEY=bad),
        client.post(SUBMIT, OPTIN, format="json", HTTP_AUTHORIZATION=f"Bearer {bad}"),
        client.post(SUBMIT, {"email": "nope"}, format="json", HTTP_X_API_KEY=key),
        client.post("/v1/create-lead", create, format="json", HTTP_X_API_KEY=key),
        client.post("/v1/create-lead", create, format="json", HTTP_X_API_KEY=bad),
        client.post(webhook, {"name": "Ana"}, format="json", HTTP_X_API_KEY=key),
        client.post(webhook, {"name": "Ana"}, HTTP_AUTHORIZATION=f"Bearer {key}"),
        client.post(webhook, {"name": "Ana"}, format="json", HTTP_X_API_KEY=bad),
    ]

    statuses = [response.status_code for response in responses]
    assert statuses == [201, 200, 401, 401, 400, 201, 401, 201, 201, 401]
    assert_absent([key, bad], *map(text_of, responses), all_logs.text)
    # The capture is real: the requests and their SQL were logged, the key's lookup included.
    assert "Unauthorized: /api/opt-in/submit" in all_logs.text
    assert f"\"prefix\" = '{key[8:16]}'" in all_logs.text.replace("`", '"')


def test_the_commands_print_the_key_once_and_never_again(all_logs, workspace):
    out, issue_err = command("issue_api_key", "--workspace", str(workspace.id), "--name", "Zap")
    key = out.strip()
    assert services.api_key_verify(key=key) is not None

    listed, list_err = command("list_api_keys")
    one, one_err = command("list_api_keys", "--workspace", str(workspace.id))
    revoked, revoke_err = command("revoke_api_key", f"{key[:16]}")
    again, again_err = command("revoke_api_key", str(ApiKey.objects.get().pk))

    assert key[:16] in listed and key[:16] in one and revoked.strip() == key[:16]
    assert "revoked" in command("list_api_keys")[0]
    assert_absent(
        [key],
        issue_err,
        listed,
        list_err,
        one,
        one_err,
        revoked,
        revoke_err,
        again,
        again_err,
        all_logs.text,
    )


def test_the_admin_shows_the_key_once_on_issue_and_never_after(all_logs, admin_client, workspace):
    add = admin_client.post(
        reverse("admin:workspaces_apikey_add"),
        {"workspace": str(workspace.pk), "name": "Tally", "scopes": ["ingest"]},
    )
    key = add.context["plaintext"]
    api_key = ApiKey.objects.get()
    assert key in add.content.decode()  # the one time, by design (SPEC §5, §6)
    assert "no-store" in add["Cache-Control"]
    assert key not in "".join(f"{name}: {value}" for name, value in add.items())

    change = reverse("admin:workspaces_apikey_change", args=[api_key.pk])
    changelist = reverse("admin:workspaces_apikey_changelist")
    pages = [
        admin_client.get(changelist),
        admin_client.get(changelist, {"q": key[:16]}),
        admin_client.get(change),
        admin_client.post(change, {"name": "Tally forms"}, follow=True),
        admin_client.get(reverse("admin:workspaces_apikey_history", args=[api_key.pk])),
        admin_client.get(reverse("admin:workspaces_workspace_change", args=[workspace.pk])),
        admin_client.get(reverse("admin:workspaces_workspace_history", args=[workspace.pk])),
        admin_client.get(reverse("admin:index")),
        admin_client.post(
            changelist, {"action": "revoke_selected", ACTION_CHECKBOX_NAME: [str(api_key.pk)]}
        ),
        admin_client.post(
            changelist,
            {"action": "revoke_selected", ACTION_CHECKBOX_NAME: [str(api_key.pk)], "post": "yes"},
            follow=True,
        ),
        admin_client.get(change),
    ]

    assert [page.status_code for page in pages] == [200] * len(pages)
    api_key.refresh_from_db()
    assert (api_key.name, api_key.revoked_at is not None) == ("Tally forms", True)
    assert "Changed Name." in pages[4].content.decode()  # the history page lists the edit
    stored = [
        *(f"{entry.object_repr} {entry.change_message}" for entry in LogEntry.objects.all()),
        *(str(session.get_decoded()) for session in Session.objects.all()),
    ]
    assert len(stored) >= 3  # addition, change, and the staff session
    assert_absent([key], *map(text_of, pages), *stored, all_logs.text)


# --- a wrong secret and an unknown prefix: the same work and the same answer ---------------


@pytest.fixture
def hash_work(monkeypatch) -> list[tuple[str, ...]]:
    """Records each hash computed and each comparison made by the key check, in order."""
    calls: list[tuple[str, ...]] = []
    real_hash, real_compare = services._hash, hmac.compare_digest

    def counted_hash(key: str) -> str:
        calls.append(("hash", key))
        return real_hash(key)

    def counted_compare(a: str, b: str) -> bool:
        calls.append(("compare", a, b))
        return real_compare(a, b)

    monkeypatch.setattr(services, "_hash", counted_hash)
    monkeypatch.setattr(services.hmac, "compare_digest", counted_compare)
    return calls


def _request(endpoint: str, key: str, workspace):
    client = APIClient()
    if endpoint == "opt-in":
        return client.post(SUBMIT, OPTIN, format="json", HTTP_X_API_KEY=key)
    if endpoint == "create-lead":
        body = {"workspace_id": str(workspace.id), "name": "Ana"}
        return client.post("/v1/create-lead", body, format="json", HTTP_X_API_KEY=key)
    return client.post(f"/v1/webhook/{workspace.id}", {"name": "Ana"}, HTTP_X_API_KEY=key)


@pytest.mark.parametrize("endpoint", ["opt-in", "create-lead", "webhook"])
def test_a_wrong_secret_and_an_unknown_prefix_do_the_same_work(
    hash_work, api_key, workspace, endpoint
):
    wrong = wrong_secret(api_key.plaintext)
    unknown = KEY_PREFIX + "Zz9" * 13 + "Z"
    assert len(unknown) == len(wrong) and not ApiKey.objects.filter(prefix=unknown[8:16]).exists()

    work, queries, responses = [], [], []
    for key in (wrong, unknown):
        hash_work.clear()
        with CaptureQueriesContext(connection) as captured:
            responses.append(_request(endpoint, key, workspace))
        work.append(list(hash_work))
        queries.append([q["sql"].replace(key[8:16], "<prefix>") for q in captured.captured_queries])

    (wrong_work, unknown_work), (wrong_queries, unknown_queries) = work, queries
    # One hash and one constant-time comparison each: against the key's hash for a wrong
    # secret, against the dummy hash for an unknown prefix.
    assert [call[0] for call in wrong_work] == [call[0] for call in unknown_work]
    assert [call[0] for call in wrong_work] == ["hash", "compare"]
    assert wrong_work[1][2] == api_key.secret_hash
    assert unknown_work[1][2] == services._DUMMY_HASH
    # The same statements, differing only in the prefix looked up.
    assert wrong_queries == unknown_queries and len(wrong_queries) == 1
    # Byte-identical answers: status, every header, body.
    first, second = responses
    assert first.status_code == second.status_code == 401
    assert first.items() == second.items()
    assert first.content == second.content
    assert first.json()["message"] == "Invalid or revoked API key"
