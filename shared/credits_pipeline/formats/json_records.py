"""JSON records, streamed with ijson: the objects of a file's innermost arrays, one at a time.

An API response (`{"creditAllocationHistoryList": [{...}, ...], "nextToken": ...}`), a bare list,
a list of saved pages, or JSON Lines (ijson's `multiple_values`): a *record* is an object that sits
in an array (or at the top level) and holds no array of objects itself; an object that does is a
wrapper, and only its records count. Memory holds one record at a time, whatever the file's size.
Numbers come as int or Decimal, never float.
"""

import codecs
import json
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import IO, Any

import ijson

from credits_pipeline.formats.base import FileRejected

try:  # ijson's wheels ship the C backend; the pure-Python one reads the same, only slower
    _backend: Any = ijson.get_backend("yajl2_c")
except ImportError:  # pragma: no cover - depends on the installed wheel
    _backend = ijson.get_backend("python")

MAX_DEPTH = 64
MAX_RECORD_VALUES = 1 << 16
_OPENS = frozenset({"start_map", "start_array"})
_CLOSES = frozenset({"end_map", "end_array"})
_SCALARS = frozenset({"string", "number", "boolean", "null"})
_UTF8_BOM = b"\xef\xbb\xbf"


class EmptyPage:
    """An object whose list is empty: a page of results with no records, not a record."""


EMPTY_PAGE = EmptyPage()
JsonRecord = dict[str, object] | EmptyPage


def records(stream: IO[bytes], encoding: str) -> Iterator[JsonRecord]:
    """Each record's fields (nested objects flattened with dots), or EMPTY_PAGE, in file order.

    `{"creditAmount": {"currencyAmount": "-1.5"}}` -> `{"creditAmount.currencyAmount": "-1.5"}`.
    An object holding an empty list is a page without records (`{"...List": [], "nextToken": ...}`).
    """
    count = 0
    try:
        for record in _records(_Utf8.of(stream, encoding)):
            count += 1
            yield record
    except ijson.JSONError as error:
        # yajl says what is wrong on its first line and shows the text around it on the second.
        lines = [line.strip() for line in str(error).strip().splitlines()] or [type(error).__name__]
        near = f" near {lines[1]!r}" if len(lines) > 1 else ""
        raise FileRejected(f"unreadable JSON at record {count + 1}: {lines[0]}{near}") from None


def _records(reader: "_Utf8") -> Iterator[JsonRecord]:
    arrays: list[bool] = []  # for each open container: whether it is an array
    builder: Any = None  # the record being built, if any
    record_depth = -1
    values = 0
    for event, value in _backend.basic_parse(reader, multiple_values=True):
        if event in _OPENS:
            if len(arrays) >= MAX_DEPTH:
                raise FileRejected(f"unreadable JSON: nested deeper than {MAX_DEPTH} objects and arrays")
            if event == "start_map" and (not arrays or arrays[-1]):
                # An object in an array (or at the top) is a record; one inside a record makes that a wrapper.
                builder, record_depth, values = ijson.ObjectBuilder(), len(arrays), 0
            arrays.append(event == "start_array")
        elif event in _CLOSES:
            arrays.pop()
            if builder is not None and len(arrays) == record_depth:
                builder.event(event, value)
                yield _record(builder.value)
                builder = None
                continue
        elif not arrays and event in _SCALARS:
            raise FileRejected(f"unreadable JSON: {value!r} outside any object or array")
        if builder is not None:
            values += 1
            if values > MAX_RECORD_VALUES:
                raise FileRejected(f"unreadable JSON: a record of more than {MAX_RECORD_VALUES} values")
            builder.event(event, value)


class _Utf8:
    """What ijson reads: the file as UTF-8 bytes, without a BOM (UTF-16 re-encoded)."""

    def __init__(self, read: Callable[[int], bytes | str], pending: bytes) -> None:
        self._read = read
        self._pending = pending

    @classmethod
    def of(cls, stream: IO[bytes], encoding: str) -> "_Utf8":
        if stream.seekable():
            stream.seek(0)
        if encoding == "utf-16":
            return cls(codecs.getreader("utf-16")(stream).read, b"")
        start = stream.read(len(_UTF8_BOM))
        return cls(stream.read, b"" if start == _UTF8_BOM else start)

    def read(self, size: int) -> bytes:
        if size == 0:  # ijson first asks for nothing, to learn whether the stream gives bytes
            return b""
        chunk = self._read(size)
        data = chunk.encode("utf-8") if isinstance(chunk, str) else chunk
        if self._pending:
            data, self._pending = self._pending + data, b""
        return data


def _record(value: dict[str, object]) -> JsonRecord:
    if any(isinstance(item, list) and not item for item in value.values()):
        return EMPTY_PAGE
    flat: dict[str, object] = {}
    _flatten("", value, flat, 0)
    return flat


def _flatten(prefix: str, value: dict[str, object], into: dict[str, object], depth: int) -> None:
    for key, item in value.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(item, dict) and depth < 4:
            _flatten(name, item, into, depth + 1)
        else:
            into[name] = item


def cell_text(value: object) -> str:
    """A JSON value as the text a CSV cell would hold; numbers as exact decimals."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | Decimal):
        return str(value)
    return json.dumps(value, default=str)  # a nested list or object: its numbers are Decimals
