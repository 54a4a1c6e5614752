"""What the bytes are: gzip, zip, Parquet, JSON or text, told by magic bytes, never by the file name.

A zip holds one credit file, or the parts of one multi-part CUR (read in name order, as one file).
Each part can be opened again from its start: detection reads a head, reading starts over.
"""

import gzip
import io
import re
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any, BinaryIO, Literal, cast

from credits_pipeline.formats.base import FileRejected
from credits_pipeline.formats.text import SNIFF_BYTES, UTF16_BOMS, check_text, peek

Kind = Literal["text", "json", "parquet"]

GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGIC = b"PK\x03\x04"
EMPTY_ZIP_MAGIC = b"PK\x05\x06"
PARQUET_MAGIC = b"PAR1"
_MAX_NESTING = 3
_MANIFEST = re.compile(r"(?i)(^|[-_/])manifest[^/]*\.json$")
_NATURAL = re.compile(r"(\d+)")
CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Part:
    """One data stream: the whole upload, or one member of a zip. `open` starts it over."""

    name: str
    kind: Kind
    head: bytes
    open: Callable[[], IO[bytes]]
    layers: tuple[str, ...]
    # Whether a stream from `open` is ours to close (a decompressor), not the caller's upload.
    owned: bool = True


@dataclass(frozen=True)
class Content:
    parts: tuple[Part, ...]

    @property
    def kind(self) -> Kind:
        return self.parts[0].kind

    @property
    def layers(self) -> tuple[str, ...]:
        first = self.parts[0].layers
        if len(self.parts) > 1:
            return (f"zip of {len(self.parts)} parts", *first[1:])
        return first


def open_content(data: BinaryIO) -> Content:
    """The parts of an upload, decompressed and classified; FileRejected when no part is usable."""

    def reopen() -> IO[bytes]:
        data.seek(0)
        return data

    head = peek(data)
    parts = [
        part if part.open is not reopen else Part(part.name, part.kind, part.head, part.open, part.layers, owned=False)
        for part in _classify("", head, reopen, (), 0)
    ]
    kinds = {part.kind for part in parts}
    if len(kinds) > 1:
        listing = ", ".join(f"{part.name} ({part.kind})" for part in parts)
        raise FileRejected(f"the zip holds files of different kinds ({listing}): upload one credit file")
    return Content(tuple(parts))


def _classify(
    name: str, head: bytes, opener: Callable[[], IO[bytes]], layers: tuple[str, ...], depth: int
) -> list[Part]:
    if depth > _MAX_NESTING:
        raise FileRejected("the file is compressed too many times over (nested archives)")
    if head.startswith(GZIP_MAGIC):
        return _gzip(name, opener, layers, depth)
    if head.startswith((ZIP_MAGIC, EMPTY_ZIP_MAGIC)):
        if depth > 0:
            raise FileRejected(f"{name or 'the file'} is a zip inside an archive: upload the inner file")
        return _zip(opener, layers, depth)
    if head.startswith(PARQUET_MAGIC):
        return [Part(name, "parquet", head, opener, (*layers, "parquet"))]
    _refuse_known_binaries(head, name)
    check_text(head)
    text_start = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(UTF16_BOMS):
        text_start = head.decode("utf-16", errors="ignore").lstrip("\ufeff \t\r\n").encode()
    kind: Kind = "json" if text_start[:1] in (b"{", b"[") else "text"
    return [Part(name, kind, head, opener, (*layers, "json" if kind == "json" else "csv"))]


def _gzip(name: str, opener: Callable[[], IO[bytes]], layers: tuple[str, ...], depth: int) -> list[Part]:
    def open_gzip() -> IO[bytes]:
        return cast(IO[bytes], gzip.GzipFile(fileobj=opener(), mode="rb"))

    stream = open_gzip()
    inner_head = stream.read(SNIFF_BYTES)
    if not inner_head:
        raise FileRejected(f"{name or 'the gzip file'} is empty once decompressed")
    inner_name = name[:-3] if name.endswith(".gz") else name
    return _classify(inner_name, inner_head, open_gzip, (*layers, "gzip"), depth + 1)


def _zip(opener: Callable[[], IO[bytes]], layers: tuple[str, ...], depth: int) -> list[Part]:
    archive = zipfile.ZipFile(opener())
    members = [info for info in archive.infolist() if _is_data_member(info)]
    names = {info.filename for info in archive.infolist()}
    if "[Content_Types].xml" in names and any(n.startswith("xl/") for n in names):
        raise FileRejected("this is an Excel workbook (.xlsx): save the sheet as CSV UTF-8 and upload that")
    data_members = [info for info in members if not _MANIFEST.search(info.filename)] or members
    if not data_members:
        raise FileRejected("the zip holds no file")
    data_members.sort(key=lambda info: _natural_key(info.filename))
    parts: list[Part] = []
    for info in data_members:
        if info.flag_bits & 0x1:
            raise FileRejected(f"{info.filename} in the zip is encrypted")

        def open_member(member: zipfile.ZipInfo = info) -> IO[bytes]:
            return cast(IO[bytes], io.BufferedReader(_ZipMember(archive, member), CHUNK))

        with open_member() as member_stream:
            head = member_stream.read(SNIFF_BYTES)
        parts.extend(_classify(info.filename, head, open_member, (*layers, "zip"), depth + 1))
    return parts


class _ZipMember(io.RawIOBase):
    """A zip member whose damage reads as BadZipFile: zipfile says it with ValueError, RuntimeError and more."""

    _DAMAGE = (ValueError, NotImplementedError, RuntimeError, OSError, EOFError, zlib.error)

    def __init__(self, archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> None:
        super().__init__()
        self._name = member.filename
        try:
            self._inner = archive.open(member)
        except self._DAMAGE as error:
            raise zipfile.BadZipFile(f"{self._name}: {error}") from None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        try:
            data = self._inner.read(len(buffer))
        except self._DAMAGE as error:
            raise zipfile.BadZipFile(f"{self._name}: {error}") from None
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._inner.close()
        super().close()


def _is_data_member(info: zipfile.ZipInfo) -> bool:
    base = info.filename.rsplit("/", 1)[-1]
    return not (info.is_dir() or info.filename.startswith("__MACOSX/") or base.startswith(".") or info.file_size == 0)


def _natural_key(name: str) -> list[object]:
    """`part-2` before `part-10`."""
    return [int(piece) if piece.isdigit() else piece.casefold() for piece in _NATURAL.split(name)]


def _refuse_known_binaries(head: bytes, name: str) -> None:
    what = name or "the file"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise FileRejected(f"{what} is an Excel 97-2003 workbook (.xls): save the sheet as CSV UTF-8")
    if head.startswith(b"%PDF"):
        raise FileRejected(f"{what} is a PDF: credits must come as CSV, JSON, Parquet or a CUR")


__all__ = ["Content", "Kind", "Part", "open_content", "peek"]
