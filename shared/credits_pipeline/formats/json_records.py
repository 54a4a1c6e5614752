"""JSON records, streamed: the objects of a file's innermost arrays, one at a time.

An API response (`{"creditAllocationHistoryList": [{...}, ...], "nextToken": ...}`), a bare list,
a list of saved pages, or JSON Lines: a *record* is an object that sits in an array (or at the top
level) and holds no array of objects itself; an object that does is a wrapper, and only its records
count. Memory holds one record at a time, whatever the file's size (and, to check saved pages, a token
and a digest a page).

A *page* is the object that holds records in its list (a saved API response). Its own values (the
`nextToken` that asks for the next page) come before or after its records, so `record_texts` tells
where a page's records start (PageStart) and, once the page closes, its own values (PageEnd).
`Pagination` checks the pages of a file as a whole, for every reader of saved API pages.
"""

import hashlib
import io
import json
import re
from collections.abc import Container, Iterator
from dataclasses import dataclass

from credits_pipeline.formats.base import FileRejected

_STRUCTURE = re.compile(r'[\\"{}\[\]]')
_CHUNK = 1 << 16
MAX_RECORD_CHARS = 1 << 20
# A page's own values are its paging state: `nextToken`, `NextPageToken`, a `Marker`.
_PAGING = re.compile(r"token|marker", re.IGNORECASE)
# The one that asks for the page after it (`nextToken`, `NextPageToken`, `NextMarker`); a bare `Marker`
# echoes the request and says nothing about what follows.
_CONTINUATION = re.compile(r"next\w*(?:token|marker)", re.IGNORECASE)
MAX_DEPTH = 64  # API pages nest 4 deep; far deeper is hostile, and would break json.loads' recursion


class _Container:
    __slots__ = ("candidate", "char", "wrapper")

    def __init__(self, char: str, candidate: bool) -> None:
        self.char = char
        self.candidate = candidate  # an object in an array (or at the top): a record unless a wrapper
        self.wrapper = False


class PageStart:
    """The records after this one are a page's, until its PageEnd."""


PAGE_START = PageStart()


@dataclass(frozen=True, slots=True)
class PageEnd:
    """A page closed: its own values as JSON text, each list or object in it written `null`."""

    values: str


class _Page:
    """The innermost wrapper: a page once a record of its own is read. Only its own values are kept."""

    __slots__ = ("depth", "own", "own_from", "records", "size")

    def __init__(self, depth: int, own: list[str]) -> None:
        self.depth = depth  # its place in the stack
        self.own = own
        self.size = sum(map(len, own))
        self.own_from: int | None = None  # where its current stretch of own text starts in the chunk
        self.records = False

    def keep(self, text: str) -> None:
        self.size += len(text)
        if self.size > MAX_RECORD_CHARS:
            raise FileRejected(
                f"unreadable JSON: a page whose own values are longer than {MAX_RECORD_CHARS} characters"
            )
        self.own.append(text)


class _Strings:
    """Where the JSON strings are, as the structural characters pass by: a brace or quote inside a string
    is text. Positions are absolute (the scan reads the text in chunks)."""

    __slots__ = ("escape_at", "inside")

    def __init__(self) -> None:
        self.inside = False
        self.escape_at = -1  # the position of a character escaped by a backslash

    def text(self, position: int, char: str) -> bool:
        """Whether `char` at `position` is a string's (its closing quote too); a quote outside one opens it."""
        if not self.inside:
            self.inside = char == '"'
            return self.inside
        if position == self.escape_at:
            return True
        if char == "\\":
            self.escape_at = position + 1
        elif char == '"':
            self.inside = False
        return True


def record_texts(text: io.TextIOBase) -> Iterator[str | PageStart | PageEnd]:
    """The text of each record, in file order; a page's records between PAGE_START and its PageEnd."""
    stack: list[_Container] = []
    strings = _Strings()
    capture: list[str] | None = None
    captured = 0
    capture_depth = -1
    page: _Page | None = None
    offset = 0  # absolute position of the chunk's start
    while chunk := text.read(_CHUNK):
        start = 0  # where this chunk's part of a capture begins
        gap_from = 0
        for match in _STRUCTURE.finditer(chunk):
            position = offset + match.start()
            char = match.group()
            if not stack:
                _check_top_level_gap(chunk[gap_from : match.start()])
            if strings.text(position, char):
                if not stack:
                    raise FileRejected("unreadable JSON: a string at the top level, not an object or array")
                continue
            if char in "{[":
                parent = stack[-1].char if stack else "["
                candidate = char == "{" and parent == "["
                if candidate and capture is not None:
                    stack[capture_depth].wrapper = True  # a record inside a record: the outer one wraps
                    page = _Page(capture_depth, _own_values("".join(capture) + chunk[start : match.start()]))
                    capture = None
                elif page is not None and page.own_from is not None and len(stack) == page.depth + 1:
                    page.keep(chunk[page.own_from : match.start()] + "null")
                    page.own_from = None
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
                        if page is not None and not page.records:
                            page.records = True
                            yield PAGE_START
                        yield "".join(capture)
                    capture = None
                elif page is not None and len(stack) == page.depth + 1:
                    page.own_from = match.start() + 1
                elif page is not None and len(stack) == page.depth:
                    page.keep(chunk[page.own_from or 0 : match.start() + 1])
                    if page.records:
                        yield PageEnd("".join(page.own))
                    page = None
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
        if page is not None and page.own_from is not None:
            page.keep(chunk[page.own_from :])
            page.own_from = 0
        offset += len(chunk)
    if stack or strings.inside:
        raise FileRejected("unreadable JSON: the file ends inside an object or array (truncated?)")


def _own_values(prefix: str) -> list[str]:
    """A wrapper's text up to its first record, each list or object in it written `null`.

    Once, when an object turns out to wrap records (its text so far is at most a record's); from then on
    record_texts keeps the wrapper's own text as it goes.
    """
    pieces: list[str] = []
    depth = 0
    strings = _Strings()
    own_from = 0
    for match in _STRUCTURE.finditer(prefix):
        position, char = match.start(), match.group()
        if strings.text(position, char):
            continue
        if char in "{[":
            depth += 1
            if depth == 2:
                pieces += [prefix[own_from:position], "null"]
        else:
            depth -= 1
            if depth == 1:
                own_from = position + 1
    return pieces  # the prefix ends inside the list that holds the first record


def _check_top_level_gap(text: str) -> None:
    stripped = text.strip().lstrip("\ufeff").strip()
    if stripped and stripped.strip(",") != "":
        raise FileRejected(f"unreadable JSON: {stripped[:40]!r} outside any object or array")


class EmptyPage(ValueError):
    """An object whose list is empty: a page of results with no records, not a record."""

    def __init__(self, page: dict[str, object]) -> None:
        super().__init__("an empty page of results")
        self.page = page


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not a number")


class PageOrRecord(dict[str, object]):
    """An object holding an empty list beside values of its own: a page without records (`{"...List": [],
    "nextToken": null, "count": 0}`) or a record (`"tags": []` beside an account and an amount). Its fields,
    flattened; the reader that knows the fields of the file's records tells which (`is_empty_page`)."""

    def is_empty_page(self, record_fields: Container[str]) -> bool:
        """A page when none of its own values is a field the file's records hold."""
        return not any(key in record_fields for key in self if not is_paging_key(key))


def is_paging_key(key: str) -> bool:
    return _PAGING.search(key) is not None


def parse_record(text: str) -> dict[str, object]:
    """A record's fields; numbers stay text (never float), nested objects flattened with dots.

    `{"creditAmount": {"currencyAmount": "-1.5"}}` -> `{"creditAmount.currencyAmount": "-1.5"}`.
    An object holding an empty list and no value of its own but paging state is a page without records
    (`{"...List": [], "nextToken": ...}`): EmptyPage, which the reader counts and ignores. One that holds
    values of its own too is a PageOrRecord.
    """
    try:
        value = json.loads(text, parse_float=str, parse_int=str, parse_constant=_no_constant)
    except ValueError as error:
        raise ValueError(f"unreadable JSON record: {error}") from None
    if not isinstance(value, dict):
        raise ValueError("a JSON record is not an object")
    holds_empty_list = any(isinstance(item, list) and not item for item in value.values())
    if holds_empty_list and all(
        item is None or isinstance(item, list | dict) or is_paging_key(key) for key, item in value.items()
    ):
        raise EmptyPage(value)
    flat: dict[str, object] = PageOrRecord() if holds_empty_list else {}
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
    """A JSON value as the text a CSV cell would hold."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    return json.dumps(value)


def next_token(page: dict[str, object]) -> tuple[str, str] | None:
    """(name, token) of a page's request for the page after it; None on a last page (no token, null or "")."""
    for key, value in page.items():
        if isinstance(value, str) and value and _CONTINUATION.fullmatch(key):
            return key, value
    return None


class Pagination:
    """The saved pages of one file, checked as a whole: the rule of every reader of saved API pages.

    A page repeated (the same token asking for the next page, or, where the reader gives digests, the same
    records and values) is a page saved twice: its credits would count twice. A file whose every page asks
    for a next one lacks the page that ends the response. Pages may be saved in any order. Memory: a
    token and a digest a page.
    """

    def __init__(self) -> None:
        self._tokens: dict[str, str] = {}
        self._digests: dict[bytes, str] = {}
        self._pages = 0
        self._ended = False  # some page asks for no next page
        self._continuing: tuple[str, str, int | None] = ("", "", None)  # (token name, page, line) of the last

    def add(self, page: dict[str, object], where: str, line: int | None = None, digest: bytes | None = None) -> None:
        """A page (`where`: how a message names it); FileRejected when it repeats an earlier one."""
        self._pages += 1
        if digest is not None:
            if (earlier := self._digests.get(digest)) is not None:
                raise FileRejected(f"{where} is a copy of {earlier}: a page is saved twice in the file", line=line)
            self._digests[digest] = where
        continuation = next_token(page)
        if continuation is None:
            self._ended = True
            return
        name, token = continuation
        if (earlier := self._tokens.get(token)) is not None:
            shown = token if len(token) <= 40 else f"{token[:40]}..."
            raise FileRejected(
                f"{where} has the same {name} as {earlier} ({shown!r}): a page is saved twice in the file", line=line
            )
        self._tokens[token] = where
        self._continuing = (name, where, line)

    def check(self) -> None:
        """Once every page is added: FileRejected when every page asks for a next one."""
        if self._pages and not self._ended:
            name, where, line = self._continuing
            raise FileRejected(
                f"{where} has a {name}, as every page in the file does: the response continues on a page that is "
                "not in the file",
                line=line,
            )


class SavedPages:
    """Pagination of the pages record_texts finds. A page's digest is its records and own values as
    parsed (however the copy is indented): a page saved twice repeats it, two identical credits in one
    page do not."""

    def __init__(self) -> None:
        self.pagination = Pagination()
        self._digest: hashlib._Hash | None = None
        self._first = 0

    def start(self, first: int) -> None:
        """A page whose first record is number `first`."""
        self._digest = hashlib.sha256()
        self._first = first

    def record(self, value: object) -> None:
        """A record as parse_record read it (or why it could not)."""
        if self._digest is not None:
            self._digest.update(repr(value).encode())

    def end(self, values: str, last: int) -> None:
        """The page whose own values (PageEnd) follow record number `last`."""
        first, digest = self._first, self._digest or hashlib.sha256()
        self._digest = None
        where = f"the page of record {first}" if first == last else f"the page of records {first}-{last}"
        try:
            page = json.loads(values, parse_float=str, parse_int=str, parse_constant=_no_constant)
        except ValueError as error:
            raise FileRejected(f"unreadable JSON: the values of {where}: {error}", line=first) from None
        if not isinstance(page, dict):  # record_texts gives an object's values
            raise FileRejected(f"unreadable JSON: the values of {where} are not an object", line=first)
        digest.update(repr(page).encode())
        self.pagination.add(page, where, line=first, digest=digest.digest())

    def empty(self, page: dict[str, object], record: int) -> None:
        """An empty page of results (EmptyPage), record number `record`: its token counts, it has no digest
        (two queries may well both answer nothing)."""
        self.pagination.add(page, f"the empty page at record {record}", line=record)

    def check(self) -> None:
        self.pagination.check()
