"""What parsing a request's JSON body and rendering its answer cost, per endpoint (issue 18).

Times, in-process and without Django's handler, the bench's typical bodies (bench/load_bench.py)
through the parser each endpoint uses and the answers through the renderer, four ways:

- previous: the parser as it was before issue 18 (a codecs reader, json.loads building a
  decoder per body, the depth walk on every body) and DRF's JSONRenderer;
- now: hushmetrics.parsers and hushmetrics.renderers as they are;
- stdlib floor: json.loads / json.dumps with none of the strict rules (a bound, not a choice);
- orjson: orjson.loads / orjson.dumps, when importable (a bound: it cannot refuse a duplicate
  key, so it could render but not parse for us).

Checks first that `now` parses and renders exactly what `previous` did. Prints µs per call,
the best of --repeat runs of --number calls, the ways taking turns (run it niced; compare the
columns of one run).

    python bench/json_cost.py [--number 20000] [--repeat 7]
"""

import argparse
import codecs
import importlib
import io
import json
import os
import sys
import timeit
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hushmetrics.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from rest_framework.renderers import JSONRenderer  # noqa: E402

from bench.load_bench import (  # noqa: E402
    CREATE_LEAD,
    OPTIN_EXISTING,
    OPTIN_NEW,
    OPTIN_REPLAY,
    WEBHOOK,
)
from hushmetrics.parsers import (  # noqa: E402
    PayloadTooLarge,
    StrictJSONParser,
    _check_depth,
    _reject_constant,
    _unique_keys,
)
from hushmetrics.renderers import SharedEncoderJSONRenderer  # noqa: E402
from leads.parsers import JSONObjectParser  # noqa: E402

orjson: Any
try:
    orjson = importlib.import_module("orjson")
except ImportError:  # not a dependency: the column is left out
    orjson = None

WORKSPACE = "1b7f0c7e-6d3b-4a39-9a57-1b1f0c7e6d3b"
LEAD = {
    "id": "0b7f0c7e-6d3b-4a39-9a57-1b1f0c7e6d3b",
    "workspace_id": WORKSPACE,
    "name": "Jane Doe",
    "email": "jane@example.com",
    "phone": "+1234567890",
    "status": "new",
    "source": "website",
    "value": 500,
    "created_by": None,
    "utm": {"utm_source": "google", "utm_medium": "cpc"},
    "extra_data": {"company": "Acme Inc", "role": "CTO"},
    "page_url": "https://example.com/pricing",
    "created_at": "2026-03-09T12:00:00+00:00",
    "updated_at": "2026-03-09T12:00:00+00:00",
}
OPTIN_ANSWER = {
    "status": "success",
    "message": "Opt-in recorded and new lead created",
    "data": {
        "opt_in_id": "2b7f0c7e-6d3b-4a39-9a57-1b1f0c7e6d3b",
        "lead_id": "0b7f0c7e-6d3b-4a39-9a57-1b1f0c7e6d3b",
        "is_new_lead": True,
    },
}
# endpoint: (the body as sent, the parser class its view uses, the answer's data)
CASES: dict[str, tuple[bytes, type[StrictJSONParser], dict[str, Any]]] = {
    "create-lead": (
        json.dumps(CREATE_LEAD | {"workspace_id": WORKSPACE}).encode(),
        JSONObjectParser,
        LEAD,
    ),
    "webhook JSON": (json.dumps(WEBHOOK).encode(), JSONObjectParser, LEAD),
    "opt-in new lead": (
        json.dumps(OPTIN_NEW).replace("{id}", "1").encode(),
        StrictJSONParser,
        OPTIN_ANSWER,
    ),
    "opt-in existing lead": (
        json.dumps(OPTIN_EXISTING).replace("{id}", "1").encode(),
        StrictJSONParser,
        OPTIN_ANSWER,
    ),
    "opt-in replay": (json.dumps(OPTIN_REPLAY).encode(), StrictJSONParser, OPTIN_ANSWER),
}
CONTEXT = {"encoding": "utf-8"}
MEDIA = "application/json"


def previous_parse(body: bytes, parse_float: Callable[[str], Any] | None) -> Any:
    """StrictJSONParser.parse before issue 18 (the same rules, checked the old way)."""
    text = codecs.getreader("utf-8")(io.BytesIO(body)).read()
    limit = settings.MAX_JSON_FIELDS
    members = 0

    def counted(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        nonlocal members
        members += len(pairs)
        if members > limit:
            raise PayloadTooLarge(f"Too many fields (limit {limit})")
        return _unique_keys(pairs)

    value = json.loads(
        text, parse_constant=_reject_constant, parse_float=parse_float, object_pairs_hook=counted
    )
    _check_depth(value)
    return value


def parse_with(parser: StrictJSONParser, body: bytes) -> Any:
    return parser.parse(io.BytesIO(body), MEDIA, CONTEXT)


def stdlib_parse(body: bytes) -> Any:
    return json.loads(io.BytesIO(body).read().decode())


def stdlib_render(answer: Any) -> bytes:
    return json.dumps(answer, ensure_ascii=False, separators=(",", ":")).encode()


def orjson_parse(body: bytes) -> Any:
    return orjson.loads(io.BytesIO(body).read())


def best_us(calls: dict[str, Callable[[], Any]], number: int, repeat: int) -> dict[str, float]:
    """Each call's best time in µs; the ways take turns, so a busy spell slows them all."""
    best = dict.fromkeys(calls, float("inf"))
    for _ in range(repeat):
        for way, call in calls.items():
            best[way] = min(best[way], timeit.timeit(call, number=number) / number * 1e6)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--number", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    drf, ours = JSONRenderer(), SharedEncoderJSONRenderer()

    ways = ["previous", "now", "stdlib floor"] + (["orjson"] if orjson else [])
    print(f"{'µs per call':<34}" + "".join(f"{way:>14}" for way in ways))
    totals = {way: 0.0 for way in ways}
    for name, (body, parser_class, answer) in CASES.items():
        strict = parser_class()
        parse_float = parser_class.parse_float
        # The same result, or the figures compare different work.
        assert parse_with(strict, body) == previous_parse(body, parse_float)
        assert ours.render(answer, MEDIA, {}) == drf.render(answer, MEDIA, {})
        parses: dict[str, Callable[[], Any]] = {
            "previous": partial(previous_parse, body, parse_float),
            "now": partial(parse_with, strict, body),
            "stdlib floor": partial(stdlib_parse, body),
        }
        renders: dict[str, Callable[[], Any]] = {
            "previous": partial(drf.render, answer, MEDIA, {}),
            "now": partial(ours.render, answer, MEDIA, {}),
            "stdlib floor": partial(stdlib_render, answer),
        }
        if orjson:
            parses["orjson"] = partial(orjson_parse, body)
            renders["orjson"] = partial(orjson.dumps, answer)
        parse_us = best_us(parses, args.number, args.repeat)
        render_us = best_us(renders, args.number, args.repeat)
        for label, figures in (("parse", parse_us), ("render", render_us)):
            print(f"{name + ' ' + label:<34}" + "".join(f"{figures[w]:>14.2f}" for w in ways))
        both = {way: parse_us[way] + render_us[way] for way in ways}
        print(f"{name + ' parse + render':<34}" + "".join(f"{both[w]:>14.2f}" for w in ways))
        for way in ways:
            totals[way] += both[way]
    count = len(CASES)
    print(f"{'mean per request':<34}" + "".join(f"{totals[w] / count:>14.2f}" for w in ways))
    return 0


if __name__ == "__main__":
    sys.exit(main())
