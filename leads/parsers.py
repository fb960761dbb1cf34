"""Body parsers for the webhook: form builders send JSON, forms, multipart and JSON as text."""

import math
from typing import Any

from django.conf import settings
from django.core.exceptions import TooManyFieldsSent
from django.http import QueryDict
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser, FormParser

from hushmetrics.parsers import StrictJSONParser, get_encoding, json_loads


def _finite_float(text: str) -> float | str:
    # 1e400 would be float("inf"), which no JSON column (PostgreSQL jsonb) can store: keep
    # the number's text instead, so the submission is stored rather than a 500.
    number = float(text)
    return number if math.isfinite(number) else text


def _loads(text: str) -> Any:
    return json_loads(text, parse_float=_finite_float)


def _looks_like_json(body: str | bytes) -> bool:
    # A browser percent-encodes `{` and `[` in a form body, so a body that starts with one
    # is JSON, whatever its label says.
    return body.lstrip()[:1] in ("{", "[", b"{", b"[")


class JSONObjectParser(StrictJSONParser):
    """The strict JSON parser, plus: a number out of float range stays text instead of
    becoming inf."""

    parse_float = staticmethod(_finite_float)


class LenientFormParser(FormParser):
    """A form body; JSON sent under the form content type (a common plugin
    misconfiguration) is read as JSON instead of becoming one garbled key."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        encoding = get_encoding(parser_context or {})
        raw = stream.read()
        if _looks_like_json(raw):
            try:
                return _loads(raw.decode("utf-8"))
            except ValueError as error:  # UnicodeDecodeError included
                raise ParseError(f"JSON parse error - {error}") from None
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
            if _looks_like_json(text):
                raise ParseError(f"JSON parse error - {error}") from None
        pairs = [line.partition("=") for line in text.splitlines()]
        pairs = [(key, value) for key, sep, value in pairs if sep and key]
        # Django's setting may be None (no limit), though ours sets a number.
        limit: int | None = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
        if limit is not None and len(pairs) > limit:
            # The same cap as a form body's (a 413): a form is a form, however it is encoded.
            raise TooManyFieldsSent(f"more than {limit} fields")
        form = QueryDict(mutable=True)
        for key, value in pairs:
            form.appendlist(key, value)
        if text.strip() and not form:
            raise ParseError("text/plain body is neither JSON nor key=value lines")
        return form
