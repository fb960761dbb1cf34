"""What an API key looks like: `sk_live_` + 8 public characters + 32 secret ones.

The public part finds the key's row (`ApiKey.prefix`); the secret is only ever hashed.
"""

import string

KEY_PREFIX = "sk_live_"
KEY_ALPHABET = string.ascii_letters + string.digits
# 8 public characters find the row; the other 32 are the secret (62^32 ≈ 2^190).
PUBLIC_LENGTH = 8
SECRET_LENGTH = 32
KEY_LENGTH = len(KEY_PREFIX) + PUBLIC_LENGTH + SECRET_LENGTH


def displayed_prefix(public: str) -> str:
    """How a key is shown once issued: `sk_live_` and its public part (`sk_live_AbCd1234`)."""
    return f"{KEY_PREFIX}{public}"


def public_part(text: str) -> str:
    """The public part of a key, of its displayed prefix (`sk_live_AbCd1234…`, as staff copy
    it) or of a bare public part; anything else comes back as given, stripped."""
    value = text.strip().rstrip("…")
    if value.startswith(KEY_PREFIX):
        return value[len(KEY_PREFIX) : len(KEY_PREFIX) + PUBLIC_LENGTH]
    return value


def is_well_formed(key: str) -> bool:
    """Whether `key` has a key's shape: the prefix, then 40 characters of the key alphabet."""
    return (
        len(key) == KEY_LENGTH
        and key.startswith(KEY_PREFIX)
        and all(char in KEY_ALPHABET for char in key[len(KEY_PREFIX) :])
    )
