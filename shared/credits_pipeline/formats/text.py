"""Bytes -> text rows: encoding, BOM, line endings, delimiter. Streams: memory does not grow with file size."""

import codecs
import csv
import io
from collections.abc import Iterator
from typing import IO, BinaryIO

from credits_pipeline.formats.base import FileRejected

SNIFF_BYTES = 64 * 1024
DELIMITERS = (",", ";", "\t")
DELIMITER_NAMES = {",": "','", ";": "';'", "\t": "tab"}
UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def peek(data: BinaryIO, size: int = SNIFF_BYTES) -> bytes:
    """The first bytes of a seekable stream, leaving its position at the start."""
    data.seek(0)
    head = data.read(size)
    data.seek(0)
    return head


def encoding_of(head: bytes) -> str:
    """UTF-8 (a BOM is dropped), or UTF-16 when a UTF-16 BOM says so (Excel's "Unicode text")."""
    return "utf-16" if head.startswith(UTF16_BOMS) else "utf-8-sig"


def check_text(head: bytes) -> None:
    """Reject content that is empty, binary or not UTF-8, naming the reason."""
    if head.startswith(UTF16_BOMS):
        _check_utf16(head)
        return
    if not head.strip(b" \t\r\n\xef\xbb\xbf"):
        raise FileRejected("the file is empty")
    if b"\x00" in head:
        raise FileRejected("the file is binary, not text (it contains NUL bytes)")
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(head, final=False)
    except UnicodeDecodeError as error:
        line = head[: error.start].count(b"\n") + 1
        raise FileRejected(
            f"the file is not UTF-8 text (byte 0x{head[error.start]:02x}): save it as CSV UTF-8", line=line
        ) from None


def _check_utf16(head: bytes) -> None:
    usable = head[: len(head) - len(head) % 2]
    try:
        text = codecs.getincrementaldecoder("utf-16")().decode(usable, final=False)
    except UnicodeDecodeError:
        raise FileRejected("the file starts like UTF-16 text but is not") from None
    if not text.strip():
        raise FileRejected("the file is empty")
    if "\x00" in text:
        raise FileRejected("the file is binary, not text (it contains NUL characters)")


def head_text(head: bytes) -> str:
    """The head decoded for sniffing, a partial last line dropped when the head is cut."""
    encoding = encoding_of(head)
    if encoding == "utf-16":
        head = head[: len(head) - len(head) % 2]
    text = head.decode(encoding, errors="replace")
    if len(head) >= SNIFF_BYTES:
        cut = text.rfind("\n")
        if cut > 0:
            text = text[: cut + 1]
    return text


class _KeepOpen(io.BufferedReader):
    """A reader that leaves the caller's stream open when the text wrapper is dropped, and counts the lines
    of the bytes it handed the decoder, so a byte that is not UTF-8 is named by its own line (the decoder
    reads ahead of the rows the csv module has read)."""

    def __init__(self, raw: IO[bytes]) -> None:
        super().__init__(raw)  # type: ignore[arg-type]
        self._lines_before = 0  # line breaks before the chunk being decoded
        self._chunk = b""

    def read1(self, size: int = -1, /) -> bytes:
        self._lines_before += _line_breaks(self._chunk)
        self._chunk = super().read1(size)
        return self._chunk

    def line_of(self, error: UnicodeDecodeError) -> int:
        """The line of the byte the decoder refused (it decodes the chunk read last; what it held back of an
        earlier one, the start of a character cut by the chunk's end, holds no line break)."""
        return self._lines_before + _line_breaks(error.object[: error.start]) + 1

    def close(self) -> None:
        self.detach()


def _line_breaks(data: bytes) -> int:
    # One pass over every chunk a file is read in: LF (and CRLF) ends a line; only a chunk with none is
    # looked at again for an old Mac's CR.
    return data.count(b"\n") or data.count(b"\r")


def text_stream(data: IO[bytes], encoding: str = "utf-8-sig") -> io.TextIOWrapper:
    """Text, a leading BOM dropped, CRLF kept for the csv module to handle."""
    if data.seekable():
        data.seek(0)
    return io.TextIOWrapper(_KeepOpen(data), encoding=encoding, newline="")


def sample_rows(head: bytes, delimiter: str = ",", limit: int = 50) -> list[tuple[int, list[str]]]:
    """The first complete rows of a file's head, for detection without consuming the stream."""
    rows = []
    try:
        for row in csv_rows(io.StringIO(head_text(head), newline=""), delimiter):
            rows.append(row)
            if len(rows) >= limit:
                break
    except FileRejected:
        pass  # a row cut by the end of the head: detection uses the rows before it
    return rows


def field_counts(line: str) -> dict[str, int]:
    """How many fields the first line has with each candidate delimiter."""
    counts = {}
    for delimiter in DELIMITERS:
        try:
            counts[delimiter] = len(next(csv.reader([line], delimiter=delimiter), []))
        except csv.Error:
            counts[delimiter] = 0
    return counts


def delimiter_candidates(head: bytes) -> list[str]:
    """Delimiters to try, most fields in the first row first (`,` before `;` before tab on a tie)."""
    text = head_text(head).lstrip("\ufeff")
    first = next((line for line in text.splitlines() if line.strip()), "")
    counts = field_counts(first)
    return sorted(DELIMITERS, key=lambda d: (-counts[d], DELIMITERS.index(d)))


def csv_rows(
    text: io.TextIOBase, delimiter: str = ",", line_offset: int = 0, max_columns: int | None = None
) -> Iterator[tuple[int, list[str]]]:
    """(line number, fields) for each non-blank row; a decoding error names its line."""
    reader = csv.reader(text, delimiter=delimiter)
    line = 0
    try:
        for fields in reader:
            line = reader.line_num
            if max_columns is not None and len(fields) > max_columns:
                raise FileRejected(
                    f"a row of {len(fields):,} columns, more than {max_columns:,}: not a credit file",
                    line=line + line_offset,
                )
            if not any(value.strip() for value in fields):
                continue
            yield line + line_offset, fields
    except UnicodeDecodeError as error:
        buffer = getattr(text, "buffer", None)
        at = buffer.line_of(error) if isinstance(buffer, _KeepOpen) else line + 1
        byte = error.object[error.start]
        raise FileRejected(
            f"the file is not UTF-8 text (byte 0x{byte:02x}): save it as CSV UTF-8", line=at + line_offset
        ) from None
    except csv.Error as error:
        raise FileRejected(f"unreadable CSV: {error}", line=reader.line_num + line_offset) from None
