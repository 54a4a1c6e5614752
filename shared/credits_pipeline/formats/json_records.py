"""JSON records, streamed: the objects of a file's innermost arrays, one at a time.

An API response (`{"creditAllocationHistoryList": [{...}, ...], "nextToken": ...}`), a bare list,
a list of saved pages, or JSON Lines: a *record* is an object that sits in an array (or at the top
level) and holds no array of objects itself; an object that does is a wrapper, and only its records
count. Memory holds one record at a time, whatever the file's size.
"""

import io
import json
import re
from collections.abc import Iterator

from credits_pipeline.formats.base import FileRejected

_STRUCTURE = re.compile(r'[\\"{}\[\]]')
_CHUNK = 1 << 16
MAX_RECORD_CHARS = 1 << 20
# A page's own values are its paging state: `nextToken`, `NextPageToken`, a `Marker`.
_PAGING = re.compile(r"token|marker", re.IGNORECASE)
MAX_DEPTH = 64  # API pages nest 4 deep; far deeper is hostile, and would break json.loads' recursion


class _Container:
    __slots__ = ("candidate", "char", "wrapper")

    def __init__(self, char: str, candidate: bool) -> None:
        self.char = char
        self.candidate = candidate  # an object in an array (or at the top): a record unless a wrapper
        self.wrapper = False


def record_texts(text: io.TextIOBase) -> Iterator[str]:
    """The text of each record, in file order."""
    stack: list[_Container] = []
    in_string = False
    escape_at = -1  # absolute position of a character escaped by a backslash
    capture: list[str] | None = None
    captured = 0
    capture_depth = -1
    offset = 0  # absolute position of the chunk's start
    while chunk := text.read(_CHUNK):
        start = 0  # where this chunk's part of a capture begins
        gap_from = 0
        for match in _STRUCTURE.finditer(chunk):
            position = offset + match.start()
            char = match.group()
            if in_string:
                if position == escape_at:
                    continue
                if char == "\\":
                    escape_at = position + 1
                elif char == '"':
                    in_string = False
                continue
            if not stack:
                _check_top_level_gap(chunk[gap_from : match.start()])
            if char == '"':
                if not stack:
                    raise FileRejected("unreadable JSON: a string at the top level, not an object or array")
                in_string = True
            elif char in "{[":
                parent = stack[-1].char if stack else "["
                candidate = char == "{" and parent == "["
                if candidate and capture is not None:
                    stack[capture_depth].wrapper = True  # a record inside a record: the outer one wraps
                    capture = None
                if len(stack) >= MAX_DEPTH:
                    raise FileRejected(
                        f"unreadable JSON: nested deeper than {MAX_DEPTH} objects and arrays "
                        f"at character {position + 1}"
                    )
                stack.append(_Container(char, candidate))
                if candidate and capture is None:
                    capture, captured, capture_depth, start = [], 0, len(stack) - 1, match.start()
            else:
                if not stack or (stack[-1].char == "{") != (char == "}"):
                    raise FileRejected(f"unreadable JSON: unexpected {char!r} at character {position + 1}")
                closed = stack.pop()
                if capture is not None and len(stack) == capture_depth:
                    capture.append(chunk[start : match.start() + 1])
                    if not closed.wrapper:
                        yield "".join(capture)
                    capture = None
                if not stack:
                    gap_from = match.start() + 1
        if not stack:
            _check_top_level_gap(chunk[gap_from:])
        if capture is not None:
            piece = chunk[start:]
            captured += len(piece)
            if captured > MAX_RECORD_CHARS:
                raise FileRejected(f"unreadable JSON: a record longer than {MAX_RECORD_CHARS} characters")
            capture.append(piece)
        offset += len(chunk)
    if stack or in_string:
        raise FileRejected("unreadable JSON: the file ends inside an object or array (truncated?)")


def _check_top_level_gap(text: str) -> None:
    stripped = text.strip().lstrip("\ufeff").strip()
    if stripped and stripped.strip(",") != "":
        raise FileRejected(f"unreadable JSON: {stripped[:40]!r} outside any object or array")


class EmptyPage(ValueError):
    """An object whose list is empty: a page of results with no records, not a record."""


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not a number")


def parse_record(text: str) -> dict[str, object]:
    """A record's fields; numbers stay text (never float), nested objects flattened with dots.

    `{"creditAmount": {"currencyAmount": "-1.5"}}` -> `{"creditAmount.currencyAmount": "-1.5"}`.
    An object holding an empty list and no value of its own but paging state is a page without records
    (`{"...List": [], "nextToken": ...}`): EmptyPage, which the reader counts and ignores. A record may
    hold an empty list too (`"tags": []`): its own values (an account, an amount) say it is one.
    """
    try:
        value = json.loads(text, parse_float=str, parse_int=str, parse_constant=_no_constant)
    except ValueError as error:
        raise ValueError(f"unreadable JSON record: {error}") from None
    if not isinstance(value, dict):
        raise ValueError("a JSON record is not an object")
    if _is_empty_page(value):
        raise EmptyPage
    flat: dict[str, object] = {}
    _flatten("", value, flat, 0)
    return flat


def _is_empty_page(value: dict[str, object]) -> bool:
    if not any(isinstance(item, list) and not item for item in value.values()):
        return False
    return all(
        item is None or isinstance(item, list | dict) or _PAGING.search(key) is not None for key, item in value.items()
    )


def _flatten(prefix: str, value: dict[str, object], into: dict[str, object], depth: int) -> None:
    for key, item in value.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(item, dict) and depth < 4:
            _flatten(name, item, into, depth + 1)
        else:
            into[name] = item


def cell_text(value: object) -> str:
    """A JSON value as the text a CSV cell would hold."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    return json.dumps(value)
