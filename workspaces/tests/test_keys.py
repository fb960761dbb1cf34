"""The one parser of API-key text, used by verification, the key lookup and the admin search."""

import pytest

from workspaces.keys import KEY_LENGTH, displayed_prefix, is_well_formed, public_part
from workspaces.selectors import api_key_find

pytestmark = pytest.mark.django_db

KEY = "sk_live_AbCd1234" + "s" * 32


@pytest.mark.parametrize(
    ("text", "public"),
    [
        ("sk_live_AbCd1234", "AbCd1234"),  # the displayed prefix
        ("sk_live_AbCd1234…", "AbCd1234"),  # as the admin's list shows it
        ("  sk_live_AbCd1234… ", "AbCd1234"),
        (KEY, "AbCd1234"),  # a whole key
        ("AbCd1234", "AbCd1234"),  # the public part alone
        ("8c3f2a0e-8c1b-4f55-9d6e-2f1f7d6b9a10", "8c3f2a0e-8c1b-4f55-9d6e-2f1f7d6b9a10"),
    ],
)
def test_public_part_of_what_staff_paste_or_a_client_sends(text, public):
    assert public_part(text) == public


def test_the_displayed_prefix_is_the_key_prefix_and_the_public_part():
    assert displayed_prefix("AbCd1234") == "sk_live_AbCd1234" == KEY[:16]


@pytest.mark.parametrize(
    ("key", "well_formed"),
    [
        (KEY, True),
        (KEY[:-1], False),
        (KEY + "s", False),
        ("sk_test_AbCd1234" + "s" * 32, False),
        (KEY[:-1] + "-", False),
        (" " + KEY[:-1], False),
    ],
)
def test_a_well_formed_key(key, well_formed):
    assert len(KEY) == KEY_LENGTH
    assert is_well_formed(key) is well_formed


@pytest.mark.parametrize("shown", ["{display}", "{display}…", "{prefix}", "{id}", " {display}… "])
def test_a_key_is_found_by_what_the_admin_and_the_commands_show(api_key, shown):
    text = shown.format(display=api_key.display_prefix, prefix=api_key.prefix, id=api_key.pk)
    assert api_key_find(prefix_or_id=text) == api_key
