import re
from datetime import timedelta

import pytest
from django.utils import timezone

from workspaces.models import ApiKey
from workspaces.services import api_key_issue, api_key_mark_used, api_key_revoke, api_key_verify
from workspaces.tests.factories import ApiKeyFactory

pytestmark = pytest.mark.django_db


def test_issued_key_has_the_documented_format(workspace):
    issued = api_key_issue(workspace=workspace, name="Typeform")
    assert re.fullmatch(r"sk_live_[A-Za-z0-9]{40}", issued.plaintext)
    assert issued.api_key.prefix == issued.plaintext[8:16]
    assert issued.api_key.secret_hash != issued.plaintext
    assert len(issued.api_key.secret_hash) == 64


def test_issued_keys_are_distinct(workspace):
    keys = {api_key_issue(workspace=workspace, name=f"k{i}").plaintext for i in range(20)}
    assert len(keys) == 20


def test_valid_key_verifies_to_its_row_and_workspace(api_key, workspace):
    verified = api_key_verify(key=api_key.plaintext)
    assert verified == api_key
    assert verified is not None and verified.workspace == workspace


@pytest.mark.parametrize("position", [8, 15, 16, 30, 47])
def test_key_with_one_character_changed_fails(api_key, position):
    key = api_key.plaintext
    replacement = "A" if key[position] != "A" else "B"
    tampered = key[:position] + replacement + key[position + 1 :]
    assert api_key_verify(key=tampered) is None


@pytest.mark.parametrize(
    "key",
    [
        "",
        " ",
        "sk_live_",
        "sk_test_" + "a" * 40,
        "sk_live_" + "a" * 39,
        "sk_live_" + "é" * 40,
        "x" * 10_000,
    ],
)
def test_malformed_keys_fail(api_key, key):
    assert api_key_verify(key=key) is None


def test_revoked_key_fails_and_revocation_is_irreversible(api_key):
    api_key_revoke(api_key=api_key)
    assert api_key_verify(key=api_key.plaintext) is None
    first_revocation = ApiKey.objects.get(pk=api_key.pk).revoked_at
    api_key_revoke(api_key=api_key)
    assert ApiKey.objects.get(pk=api_key.pk).revoked_at == first_revocation


def test_expired_key_fails(workspace):
    api_key = ApiKeyFactory(workspace=workspace, expires_in_days=30)
    assert api_key_verify(key=api_key.plaintext) == api_key
    now = timezone.now()
    ApiKey.objects.filter(pk=api_key.pk).update(
        created_at=now - timedelta(days=31), expires_at=now - timedelta(seconds=1)
    )
    assert api_key_verify(key=api_key.plaintext) is None


def test_issue_rejects_bad_arguments(workspace):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        api_key_issue(workspace=workspace, name="  ")
    with pytest.raises(ValidationError):
        api_key_issue(workspace=workspace, name="k", expires_in_days=0)
    assert ApiKey.objects.count() == 0


def test_last_used_is_written_at_most_once_a_minute(api_key, django_assert_num_queries):
    with django_assert_num_queries(1):  # UPDATE … WHERE last_used_at IS NULL OR < now-1min
        api_key_mark_used(api_key=api_key)
    stamped = ApiKey.objects.get(pk=api_key.pk).last_used_at
    assert stamped is not None
    with django_assert_num_queries(0):
        api_key_mark_used(api_key=api_key)
    # Another process holding a stale copy may ask again: the conditional UPDATE changes nothing.
    stale = ApiKey.objects.get(pk=api_key.pk)
    stale.last_used_at = None
    api_key_mark_used(api_key=stale)
    assert ApiKey.objects.get(pk=api_key.pk).last_used_at == stamped
