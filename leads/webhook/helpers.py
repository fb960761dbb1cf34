"""Small pure helpers on posted values: key spelling, text, money and PHP-style bracket keys."""

import re
import unicodedata
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from hushmetrics.parsers import MAX_JSON_DEPTH
from leads.webhook.vocabulary import CENT, MAX_VALUE, ROLES

NON_WORD = re.compile(r"[\W_]+")
BRACKET_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])+)$")
# A currency mark before an amount ("$ 99", "R$1.500,00") and, read backwards, after it
# ("99 EUR"): up to three capitals and the symbols or spaces beside them.
CURRENCY_BEFORE = re.compile(r"[A-Z]{0,3}[^\w\-.,]*")
CURRENCY_AFTER_REVERSED = re.compile(r"[A-Z]{0,3}[^\w.,]*")


def canonical(key: str) -> str:
    """Case-, accent- and punctuation-blind spelling: `E-mail`, `e mail`, `E_MAIL` → `e_mail`;
    `Teléfono` → `telefono`; `Straße` → `strasse`."""
    decomposed = unicodedata.normalize("NFKD", key.casefold())
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return NON_WORD.sub("_", bare).strip("_")


def role_of(key: str) -> str | None:
    """What a field is, by its name: a lead field (`email`, `first_name`…), `company` or
    `message` (kept in extra_data under their own key), or None."""
    return ROLES.get(canonical(key))


def as_text(value: Any) -> str:
    """A scalar (or list of scalars) as one stripped string; "" for null."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list | tuple):
        return ", ".join(text for item in value if (text := as_text(item)))
    if isinstance(value, dict):
        return " ".join(text for item in value.values() if (text := as_text(item)))
    return str(value).strip()


def as_dict(value: Any) -> dict[str, Any]:
    """`value` if it is a JSON object, else an empty one."""
    return value if isinstance(value, dict) else {}


def _matched_length(pattern: re.Pattern[str], text: str) -> int:
    # The currency patterns match the empty string too, so `match` always finds one.
    match = pattern.match(text)
    return match.end() if match else 0


def parse_money(raw: Any) -> Decimal | None:
    """A non-negative amount to the cent, within a lead's value, from a number or `"1,500.50"`
    / `"$ 99"`; else None."""
    if isinstance(raw, bool) or raw is None:
        return None
    if isinstance(raw, int | float | Decimal):
        text = str(raw)
    elif isinstance(raw, str):
        # Currency marks around the number go ("$ 99", "99 EUR", "R$1.500,00"); letters
        # inside it ("1e999", "12abc") make it unparsable rather than a different number.
        text = raw.strip()
        text = text[_matched_length(CURRENCY_BEFORE, text) :]
        # Matched on the reversed text, anchored: linear. As a search for `…$` a long
        # non-word run took quadratic time (one 100 KB value held a worker for minutes).
        after = _matched_length(CURRENCY_AFTER_REVERSED, text[::-1])
        text = text[: len(text) - after]
        text = re.sub(r"[\s\u00a0']", "", text)
        if not re.fullmatch(r"-?[\d.,]+", text):
            return None
        if "," in text and "." in text:
            # The later separator is the decimal point: 1,500.50 and 1.500,50.
            if text.rfind(",") > text.rfind("."):
                text = text.replace(".", "").replace(",", ".")
            else:
                text = text.replace(",", "")
        elif "," in text:
            head, *groups = text.split(",")
            if len(groups) == 1 and 1 <= len(groups[0]) <= 2:
                text = f"{head}.{groups[0]}"  # 12,50 → 12.50
            else:
                text = text.replace(",", "")  # 1,500 or 1,500,000
    else:
        return None
    if not text or text in {"-", "."}:
        return None
    try:
        amount = Decimal(text)
    except InvalidOperation:
        return None
    if not amount.is_finite() or amount < 0 or amount > MAX_VALUE:
        return None
    return amount.quantize(CENT)


def expand_brackets(fields: Mapping[str, Any]) -> dict[str, Any]:
    """PHP-style keys as nesting: `fields[email][value]=x` → {"fields": {"email": {"value": x}}}.

    `key[]` becomes a list under `key`. A key whose shape conflicts with another is kept flat.
    """
    result: dict[str, Any] = {}
    bracketed = []
    for key, value in fields.items():
        match = BRACKET_KEY.match(key)
        # A key nested past what a JSON body may nest stays flat, as a key like any other.
        if match and match.group(2).count("[") < MAX_JSON_DEPTH:
            bracketed.append((key, match, value))
        else:
            result[key] = value
    # Plain keys first, so a bracket key that collides with one stays flat, never overwrites.
    for key, match, value in bracketed:
        parts = [match.group(1), *re.findall(r"\[([^\[\]]*)\]", match.group(2))]
        existing = result.get(parts[0])
        if parts[-1] == "" and len(parts) == 2 and (existing is None or isinstance(existing, list)):
            result.setdefault(parts[0], []).extend(value if isinstance(value, list) else [value])
        elif (existing is not None and not isinstance(existing, dict)) or not _set_path(
            result, parts, value
        ):
            result[key] = value
    return result


def _set_path(target: dict[str, Any], parts: list[str], value: Any) -> bool:
    """Place `value` at `parts` in nested dicts; False when the shape conflicts."""
    node = target
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            return False
        node = child
    last = parts[-1]
    if last == "":  # `key[]`: a list
        return False
    if last in node and isinstance(node[last], dict):
        return False
    node[last] = value
    return True
