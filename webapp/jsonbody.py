"""Request bodies as JSON the app can hold: bounded nesting and text that is valid Unicode.

Python's JSON parser recurses once per `[` and accepts lone surrogates (`"\\ud800"`), which no database
or encoder downstream can store; both are refused here, as a parse error, before any route sees them.
"""

from __future__ import annotations

from flask.json.provider import DefaultJSONProvider

# Deeper than any body the API takes (its deepest, /api/reply's values, is two levels).
MAX_JSON_DEPTH = 32


class UnsafeJSON(ValueError):
    """A body that parses but cannot be used: nested too deeply or holding text that is not valid Unicode."""


class BoundedJSONProvider(DefaultJSONProvider):
    """Flask's JSON provider, refusing deep nesting and unpaired surrogates when it reads a request."""

    def loads(self, s, **kwargs):
        """Parse `s`; UnsafeJSON (a ValueError, so Flask answers 400) for what the app cannot hold."""
        text = s.decode("utf-8", errors="replace") if isinstance(s, bytes | bytearray) else s
        if _bracket_depth(text) > MAX_JSON_DEPTH:
            raise UnsafeJSON(f"the JSON is nested more than {MAX_JSON_DEPTH} levels deep")
        value = super().loads(text, **kwargs)
        _check_text(value)
        return value


def _bracket_depth(text: str) -> int:
    """The deepest nesting of arrays and objects, counted without recursion (brackets in strings skipped)."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def _check_text(value) -> None:
    """UnsafeJSON when any key or string in `value` cannot be encoded as UTF-8 (a lone surrogate)."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise UnsafeJSON("the JSON holds text that is not valid Unicode (an unpaired surrogate)") from None
