"""Text values as the database can store them, shared by every surface that takes them."""

import re
from typing import Any

SURROGATE = re.compile(r"[\ud800-\udfff]")


def keep(target: dict[str, Any], key: str, value: Any) -> None:
    """Put `value` under `key`, never overwriting: a taken key keeps every value, in the
    order given, as a list, as a repeated form key does. Equal values are all kept (two
    questions titled alike can get the same answer); list values are joined into one list."""
    if key not in target:
        target[key] = value
        return
    existing = target[key]
    target[key] = [
        *(existing if isinstance(existing, list) else [existing]),
        *(value if isinstance(value, list) else [value]),
    ]


def strip_nul(value: Any, *, replace_surrogates: bool = False) -> Any:
    """The value with every NUL character removed (PostgreSQL cannot store one), recursively;
    with `replace_surrogates`, lone surrogates (a JSON `\\ud800`, which UTF-8 cannot encode)
    become U+FFFD, as Django does with a form's undecodable bytes.

    Two keys that differ only by NULs become one repeated key: both values are kept.
    """
    if isinstance(value, str):
        value = value.replace("\x00", "")
        return SURROGATE.sub("\ufffd", value) if replace_surrogates else value
    if isinstance(value, dict):
        result: dict[str, Any] = {}
        for key, item in value.items():
            keep(
                result,
                strip_nul(str(key), replace_surrogates=replace_surrogates),
                strip_nul(item, replace_surrogates=replace_surrogates),
            )
        return result
    if isinstance(value, list | tuple):
        return [strip_nul(item, replace_surrogates=replace_surrogates) for item in value]
    return value
