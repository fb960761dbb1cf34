"""JSON bodies for both surfaces: strict, bounded, and a 400 (never a 500) when malformed."""

import functools
import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import JSONParser

# No form builder or partner nests anywhere near this deep (Typeform's answers are at 4).
# The limit keeps every recursive step after parsing (NUL stripping, bracket keys, the
# JSON column, the response) far from Python's recursion limit.
MAX_JSON_DEPTH = 100


class PayloadTooLarge(APIException):
    """More data than the service keeps: too many JSON fields, a JSON column too large."""

    status_code = 413
    default_code = "payload_too_large"


def json_size(value: Any) -> int:
    """How many bytes `value` takes as compact UTF-8 JSON (as a JSON column stores it)."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    return len(text.encode("utf-8", "surrogatepass"))


def _reject_constant(name: str) -> Any:
    raise ValueError(f"Out of range float values are not JSON compliant: {name!r}")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # RFC 8259 leaves a repeated name's meaning open; keeping either copy would silently
    # drop the other, so the body is refused instead.
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise ValueError(f"duplicate key {key!r}")
            seen.add(key)
    return obj


def _check_depth(value: Any) -> None:
    """ValueError when objects/arrays nest past MAX_JSON_DEPTH (iterative: no recursion)."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children: Iterable[Any]
        if isinstance(node, dict):
            children = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > MAX_JSON_DEPTH:
            raise ValueError("nested too deeply")
        stack.extend((child, depth + 1) for child in children)


@functools.cache
def _decoder(parse_float: Callable[[str], Any] | None) -> json.JSONDecoder:
    # One decoder per float reader, shared as json.loads shares its default one: building
    # a decoder (and its C scanner) costs as much as parsing a small body.
    return json.JSONDecoder(
        parse_constant=_reject_constant, parse_float=parse_float, object_pairs_hook=_unique_keys
    )


def json_loads(text: str, *, parse_float: Callable[[str], Any] | None = None) -> Any:
    """Parse strict JSON; ValueError for NaN/Infinity, a duplicate key or too deep a nesting;
    PayloadTooLarge past MAX_JSON_FIELDS object members in the whole body, counted as
    the parser goes, so a body of 60,000 keys stops at key 1,001 (the same budget as a
    form's DATA_UPLOAD_MAX_NUMBER_FIELDS)."""
    limit = settings.MAX_JSON_FIELDS
    # Every member is written with a colon and every object or array with a bracket, so a
    # text with few of them cannot pass either limit, and skips counting and walking: the
    # usual body (a few dozen fields, two or three levels) pays only for the parse itself.
    if text.count(":") <= limit:
        if text.startswith("\ufeff"):  # json.loads's own refusal, before any parsing
            raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
        try:
            value = _decoder(parse_float).decode(text)
        except RecursionError:
            raise ValueError("nested too deeply") from None
        if text.count("{") + text.count("[") > MAX_JSON_DEPTH:
            _check_depth(value)
        return value
    members = 0

    def counted(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        nonlocal members
        members += len(pairs)
        if members > limit:
            raise PayloadTooLarge(f"Too many fields (limit {limit})")
        return _unique_keys(pairs)

    try:
        value = json.loads(
            text,
            parse_constant=_reject_constant,
            parse_float=parse_float,
            object_pairs_hook=counted,
        )
    except RecursionError:
        raise ValueError("nested too deeply") from None
    _check_depth(value)
    return value


def get_encoding(parser_context: Mapping[str, Any]) -> str:
    """DRF's charset for a body (the Content-Type's, else DEFAULT_CHARSET); a ParseError for
    one that does not decode text (a bytes-to-bytes codec such as bz2_codec)."""
    get: Callable[[Mapping[str, Any]], str] = parsers.get_encoding  # type: ignore[attr-defined]  # DRF 3.18.3 has it, its stubs (3.18.1) not
    return get(parser_context)


class StrictJSONParser(JSONParser):
    """DRF's JSON parser (text charsets only, no NaN/Infinity), plus: a duplicate key or a
    nesting past MAX_JSON_DEPTH is a 400, never a silently dropped value or a RecursionError."""

    # A subclass may read floats its own way (as a staticmethod); None is json's float().
    parse_float: Callable[[str], Any] | None = None

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        encoding = get_encoding(parser_context or {})
        try:
            text = stream.read().decode(encoding)
            return json_loads(text, parse_float=self.parse_float)
        except ValueError as error:
            raise ParseError(f"JSON parse error - {error}") from None
