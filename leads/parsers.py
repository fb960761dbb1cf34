"""Body parsers for the webhook: form builders send JSON, forms, multipart and JSON as text."""

import codecs
import json
import math
from typing import Any

from django.conf import settings
from django.http import QueryDict
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser, FormParser, JSONParser


def _reject_constant(name: str) -> Any:
    raise ValueError(f"Out of range float values are not JSON compliant: {name!r}")


def _finite_float(text: str) -> float | str:
    # 1e400 would be float("inf"), which no JSON column (PostgreSQL jsonb) can store: keep
    # the number's text instead, so the submission is stored rather than a 500.
    number = float(text)
    return number if math.isfinite(number) else text


def _loads(text: str) -> Any:
    try:
        return json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
    except RecursionError:
        raise ValueError("nested too deeply") from None


class JSONObjectParser(JSONParser):
    """DRF's JSON parser (strict: no NaN/Infinity), plus: a number out of float range stays
    text instead of becoming inf, and a nesting bomb is a 400, not a RecursionError (500)."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            return _loads(codecs.getreader(encoding)(stream).read())
        except ValueError as error:
            raise ParseError(f"JSON parse error - {error}") from None


class LenientFormParser(FormParser):
    """A form body; a JSON object sent under the form content type (a common plugin
    misconfiguration) is read as JSON instead of becoming one garbled key."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        raw = stream.read()
        if raw.lstrip().startswith(b"{"):
            try:
                data = _loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                data = None
            if isinstance(data, dict):
                return data
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        return QueryDict(raw, encoding=encoding)


class PlainTextParser(BaseParser):
    """`text/plain`: JSON (how some builders post), else an HTML `enctype="text/plain"`
    form (`key=value` lines)."""

    media_type = "text/plain"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            text = stream.read().decode("utf-8")
        except UnicodeDecodeError:
            raise ParseError("Body is not valid UTF-8 text") from None
        try:
            return _loads(text)
        except ValueError as error:
            if text.lstrip().startswith(("{", "[")):
                raise ParseError(f"JSON parse error - {error}") from None
        form = QueryDict(mutable=True)
        for line in text.splitlines():
            key, sep, value = line.partition("=")
            if sep and key:
                form.appendlist(key, value)
        if text.strip() and not form:
            raise ParseError("text/plain body is neither JSON nor key=value lines")
        return form
