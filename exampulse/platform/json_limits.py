"""Limits on JSON that clients send, shared by the REST parser and the WebSocket frame parser."""

from __future__ import annotations

from typing import Any

# No request or frame the API defines nests deeper than a handful of levels (an exam's questions
# with their options is four). Python's json decoder recurses once per level and raises
# RecursionError, not ValueError, near ~1,000 levels, and json.dumps, DRF's serializers and the
# error formatter recurse too; a low limit keeps every later step far from the interpreter's
# recursion limit.
MAX_JSON_DEPTH = 32


def json_too_deep(value: Any, *, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when lists/objects nest more than `limit` levels; walks iteratively, so never recurses."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False
