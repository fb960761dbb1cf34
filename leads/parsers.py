"""Body parsers for the webhook: form builders send JSON, forms, multipart and JSON as text."""

import math
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.core.files.uploadhandler import FileUploadHandler
from django.http import QueryDict
from django.utils.datastructures import MultiValueDict
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import BaseParser, FormParser, MultiPartParser

from hushmetrics.middleware import UploadTooLarge
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


def _text_plain_pairs(text: str) -> list[tuple[str, str]]:
    """An HTML `enctype="text/plain"` body's (key, value) pairs. The browser writes each field
    as `key=value` and a CRLF, escaping nothing, so a line with no `=` (or a leading one) is
    the previous value going on: a textarea's next line. Lines before the first field (no
    browser writes any) are kept under the empty key, when a field follows them."""
    pairs: list[tuple[str, str]] = []
    for line in text.strip("\r\n").splitlines():
        key, sep, value = line.partition("=")
        if sep and key:
            pairs.append((key, value))
        elif pairs:
            pairs[-1] = (pairs[-1][0], f"{pairs[-1][1]}\n{line}")
        else:
            pairs.append(("", line))
    if pairs and pairs[0][0] == "" and len(pairs) == 1:
        return []  # no field at all: not a form
    return pairs


class PlainTextParser(BaseParser):
    """`text/plain`: JSON (how some builders post), else an HTML `enctype="text/plain"`
    form (`key=value` lines; a value's further lines are continuation lines)."""

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
        pairs = _text_plain_pairs(text)
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


@dataclass(frozen=True)
class DiscardedUpload:
    """What is known of an uploaded file once its bytes have streamed past: never its content."""

    name: str
    size: int
    content_type: str

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "size": self.size, "content_type": self.content_type}

    def close(self) -> None:
        """Nothing is open; Django closes every upload it collected when a parse fails."""


class DiscardingUploadHandler(FileUploadHandler):
    """Reads each uploaded file as it streams, 64 KB at a time, and keeps none of it (the
    webhook stores no files, SPEC A.2): neither memory nor disk grows with the file."""

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        return None  # counted by the parser (file_complete's size), then dropped

    # The stubs say an UploadedFile; Django keeps whatever a handler returns (not None) as
    # the file, and the webhook reads only its description.
    def file_complete(self, file_size: int) -> DiscardedUpload:  # type: ignore[override]  # see above
        return DiscardedUpload(self.file_name or "", file_size, self.content_type or "")


class BodyTooLarge(APIException):
    """A 413 naming the limit that was passed, as the body-size middleware's does."""

    status_code = 413
    default_code = "body_too_large"


class DiscardingMultiPartParser(MultiPartParser):
    """multipart/form-data with every file discarded as it streams (`DiscardingUploadHandler`).
    The non-file fields stay under DATA_UPLOAD_MAX_MEMORY_SIZE (MAX_BODY_BYTES), as Django's
    parser counts them; the whole body may reach MAX_UPLOAD_BYTES (ApiBodyLimitMiddleware)."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        request = parser_context["request"]
        # DRF's parser reads `request.upload_handlers`: this request's are ours alone.
        request.upload_handlers = [DiscardingUploadHandler(request)]
        try:
            return super().parse(stream, media_type, parser_context)
        except RequestDataTooBig as error:
            # The non-file fields past MAX_BODY_BYTES, or (streamed) the body past MAX_UPLOAD_BYTES.
            limit = (
                error.limit
                if isinstance(error, UploadTooLarge)
                else settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            )
            raise BodyTooLarge(f"Request body too large (limit {limit} bytes)") from None


def form_fields(data: MultiValueDict) -> dict[str, Any]:
    """A form's fields: a repeated key's values as a list, in order; uploads left out (DRF's
    `request.data` holds them too; `uploads` describes them)."""
    fields: dict[str, Any] = {}
    for key, values in data.lists():
        texts = [value for value in values if not isinstance(value, DiscardedUpload)]
        if texts:
            fields[key] = texts[0] if len(texts) == 1 else texts
    return fields


def uploads(files: MultiValueDict) -> dict[str, Any]:
    """Each upload field's files as `{name, size, content_type}` (a list when several)."""
    described: dict[str, Any] = {}
    for key, items in files.lists():
        found = [item.describe() for item in items if isinstance(item, DiscardedUpload)]
        if found:
            described[key] = found[0] if len(found) == 1 else found
    return described
