"""Bytes -> text rows: encoding, BOM, line endings. Streams: memory does not grow with file size."""

import codecs
import csv
import io
from collections.abc import Iterator
from typing import BinaryIO

from credits_pipeline.formats.base import FileRejected

SNIFF_BYTES = 64 * 1024


def peek(data: BinaryIO, size: int = SNIFF_BYTES) -> bytes:
    """The first bytes of a seekable stream, leaving its position at the start."""
    data.seek(0)
    head = data.read(size)
    data.seek(0)
    return head


def check_text(head: bytes) -> None:
    """Reject content that is empty, binary or not UTF-8, naming the reason."""
    if not head.strip(b" \t\r\n\xef\xbb\xbf"):
        raise FileRejected("the file is empty")
    if b"\x00" in head:
        raise FileRejected("the file is binary, not text (it contains NUL bytes)")
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(head, final=False)
    except UnicodeDecodeError as error:
        line = head[: error.start].count(b"\n") + 1
        raise FileRejected(f"the file is not UTF-8 text (byte 0x{head[error.start]:02x})", line=line) from None


class _KeepOpen(io.BufferedReader):
    """A reader that leaves the caller's stream open when the text wrapper is dropped."""

    def close(self) -> None:
        self.detach()


def text_stream(data: BinaryIO) -> io.TextIOWrapper:
    """UTF-8 text, a leading BOM dropped, CRLF kept for the csv module to handle."""
    data.seek(0)
    return io.TextIOWrapper(_KeepOpen(data), encoding="utf-8-sig", newline="")  # type: ignore[arg-type]


def sample_rows(head: bytes, delimiter: str = ",", limit: int = 50) -> list[tuple[int, list[str]]]:
    """The first complete rows of a file's head, for detection without consuming the stream."""
    cut = head.rfind(b"\n")
    complete = head if cut < 0 or len(head) < SNIFF_BYTES else head[: cut + 1]
    text = complete.decode("utf-8-sig", errors="replace")
    rows = []
    for row in csv_rows(io.StringIO(text, newline=""), delimiter):
        rows.append(row)
        if len(rows) >= limit:
            break
    return rows


def csv_rows(text: io.TextIOBase, delimiter: str = ",") -> Iterator[tuple[int, list[str]]]:
    """(line number, fields) for each non-blank row; a decoding error names its line."""
    reader = csv.reader(text, delimiter=delimiter)
    line = 0
    try:
        for fields in reader:
            line = reader.line_num
            if not any(value.strip() for value in fields):
                continue
            yield line, fields
    except UnicodeDecodeError:
        raise FileRejected("the file is not UTF-8 text", line=line + 1) from None
    except csv.Error as error:
        raise FileRejected(f"unreadable CSV: {error}", line=reader.line_num) from None
