"""DRF's JSON renderer without its per-response set-up: the same bytes, built sooner."""

import functools
import json
from collections.abc import Mapping
from typing import Any

from rest_framework.compat import LONG_SEPARATORS, SHORT_SEPARATORS
from rest_framework.renderers import JSONRenderer
from rest_framework.utils import encoders


@functools.cache
def _encoder(ensure_ascii: bool, allow_nan: bool, compact: bool) -> json.JSONEncoder:
    # json.dumps(cls=...) builds an encoder for every response; one per setting is enough
    # (an encoder keeps no state between calls, as json.dumps's shared default one shows).
    separators = SHORT_SEPARATORS if compact else LONG_SEPARATORS
    return encoders.JSONEncoder(
        ensure_ascii=ensure_ascii, allow_nan=allow_nan, separators=separators
    )


class SharedEncoderJSONRenderer(JSONRenderer):
    """DRF's JSONRenderer with one shared encoder; an indented answer (`; indent=` in the
    accepted type, or `indent` in the context) is DRF's own."""

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        if (accepted_media_type and ";" in accepted_media_type) or (
            renderer_context and renderer_context.get("indent") is not None
        ):
            return super().render(data, accepted_media_type, renderer_context)
        if data is None:
            return b""
        text = _encoder(self.ensure_ascii, not self.strict, self.compact).encode(data)
        # As DRF does: U+2028 and U+2029 escaped, so the JSON is also valid JavaScript.
        return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").encode()
