"""What the bytes are: gzip, zip, Parquet, JSON or text, told by magic bytes, never by the file name.

A zip holds one credit file, or the parts of one multi-part CUR, CUR 2.0 or FOCUS export (read in name
order, as one file: formats.registry refuses several members of any other format). Two members with
identical bytes are a copy, never two parts; one part name in two folders of one period is two deliveries.
Each part can be opened again from its start: detection
reads a head, reading starts over.
"""

import io
import re
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import IO, Any, BinaryIO, Literal, Protocol, cast

# ISA-L's gzip: the same format and API as the standard library's, inflating about 4x as fast (a CUR's
# gzip is most of the time its read takes).
from isal import igzip

from credits_pipeline.domain.text import safe_text
from credits_pipeline.formats.base import ArchiveLimits, FileRejected
from credits_pipeline.formats.text import SNIFF_BYTES, UTF16_BOMS, check_text, peek

Kind = Literal["text", "json", "parquet"]

GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGIC = b"PK\x03\x04"
EMPTY_ZIP_MAGIC = b"PK\x05\x06"
PARQUET_MAGIC = b"PAR1"
_MANIFEST = re.compile(r"(?i)(^|[-_/])manifest[^/]*\.json$")
_NATURAL = re.compile(r"(\d+)")
# The folders of one billing period in an export's paths, most telling first: AWS's own (CUR 2.0 / FOCUS, legacy
# CUR), legacy CUR for Athena's (`year=2024/month=11`), a month's folder (`2024-11`). Only the most telling kind
# found counts: deliveries saved in folders named by the month they came (`2024-11/<period>/...`) are one period.
_PERIOD_FOLDERS = tuple(
    re.compile(rf"(?:^|/)({kind})(?=/|$)")
    for kind in (r"BILLING_PERIOD=[^/]+|\d{8}-\d{8}", r"year=\d{4}|month=\d{1,2}", r"\d{4}-\d{2}")
)
CHUNK = 1024 * 1024
INFLATE_CHUNK = 8 * 1024 * 1024


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
    # A gzip part is inflated to its end (under the limits) before rows are read one by one, and not
    # before: the columnar reader inflates it once, as it reads it, under the same limits.
    inflate: Callable[[], None] | None = None


@dataclass(frozen=True)
class Content:
    parts: tuple[Part, ...]
    limits: ArchiveLimits = field(default_factory=ArchiveLimits)

    @property
    def kind(self) -> Kind:
        return self.parts[0].kind

    def inflate_through(self) -> None:
        """Inflate every compressed part to its end now: a bomb is refused before a slow row-by-row parse."""
        for part in self.parts:
            if part.inflate is not None:
                part.inflate()

    @property
    def layers(self) -> tuple[str, ...]:
        first = self.parts[0].layers
        if len(self.parts) > 1:
            return (f"zip of {len(self.parts)} parts", *first[1:])
        return first


def open_content(data: BinaryIO, limits: ArchiveLimits | None = None) -> Content:
    """The parts of an upload, decompressed and classified; FileRejected when no part is usable."""

    def reopen() -> IO[bytes]:
        data.seek(0)
        return data

    head = peek(data)
    data.seek(0, io.SEEK_END)
    budget = _Budget(limits or ArchiveLimits(), uploaded=max(data.tell(), 1))
    data.seek(0)
    parts = [
        part if part.open is not reopen else replace(part, owned=False)
        for part in _classify("", head, reopen, (), 0, budget=budget)
    ]
    kinds = {part.kind for part in parts}
    if len(kinds) > 1:
        listing = ", ".join(f"{part.name} ({part.kind})" for part in parts)
        raise FileRejected(f"the zip holds files of different kinds ({listing}): upload one credit file")
    return Content(tuple(parts), budget.limits)


def _classify(
    name: str, head: bytes, opener: Callable[[], IO[bytes]], layers: tuple[str, ...], depth: int, *, budget: "_Budget"
) -> list[Part]:
    if head.startswith(GZIP_MAGIC):
        if "gzip" in layers:
            raise FileRejected(f"{_label(name)} is compressed twice over (a gzip inside a gzip): upload it once")
        return _gzip(name, opener, layers, depth, budget)
    if head.startswith((ZIP_MAGIC, EMPTY_ZIP_MAGIC)):
        if depth > 0:
            raise FileRejected(f"{_label(name)} is a zip inside an archive: upload the inner file")
        return _zip(opener, layers, depth, budget)
    if head.startswith(PARQUET_MAGIC):
        return [Part(name, "parquet", head, opener, (*layers, "parquet"))]
    _refuse_known_binaries(head, name)
    check_text(head)
    text_start = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(UTF16_BOMS):
        text_start = head.decode("utf-16", errors="ignore").lstrip("\ufeff \t\r\n").encode()
    kind: Kind = "json" if text_start[:1] in (b"{", b"[") else "text"
    return [Part(name, kind, head, opener, (*layers, "json" if kind == "json" else "csv"))]


def _gzip(
    name: str, opener: Callable[[], IO[bytes]], layers: tuple[str, ...], depth: int, budget: "_Budget"
) -> list[Part]:
    def open_gzip() -> IO[bytes]:
        inflated = igzip.IGzipFile(fileobj=opener(), mode="rb")  # type: ignore[no-untyped-call]  # untyped upstream
        return cast(IO[bytes], io.BufferedReader(_Capped(inflated, _label(name), budget, opener), CHUNK))

    stream = open_gzip()
    inner_head = stream.read(SNIFF_BYTES)
    stream.close()
    if not inner_head:
        raise FileRejected(f"{name or 'the gzip file'} is empty once decompressed")
    inflated = False

    def inflate() -> None:
        nonlocal inflated
        if not inflated:
            _inflate_through(open_gzip())
            inflated = True

    inner_name = name[:-3] if name.endswith(".gz") else name
    parts = _classify(inner_name, inner_head, open_gzip, (*layers, "gzip"), depth + 1, budget=budget)
    return [replace(part, inflate=inflate) for part in parts]


def _zip(opener: Callable[[], IO[bytes]], layers: tuple[str, ...], depth: int, budget: "_Budget") -> list[Part]:
    archive = zipfile.ZipFile(opener())
    if len(archive.infolist()) > budget.limits.max_archive_members:
        raise FileRejected(
            f"the zip holds {len(archive.infolist())} entries, more than {budget.limits.max_archive_members}: "
            "upload the credit file itself"
        )
    members = [info for info in archive.infolist() if _is_data_member(info)]
    names = {info.filename for info in archive.infolist()}
    if "[Content_Types].xml" in names and any(n.startswith("xl/") for n in names):
        raise FileRejected("this is an Excel workbook (.xlsx): save the sheet as CSV UTF-8 and upload that")
    data_members = [info for info in members if not _MANIFEST.search(info.filename)] or members
    if not data_members:
        raise FileRejected("the zip holds no file")
    data_members.sort(key=lambda info: _natural_key(info.filename))
    _refuse_two_deliveries(data_members)
    parts: list[Part] = []
    openers: list[tuple[zipfile.ZipInfo, Callable[[], IO[bytes]]]] = []
    for info in data_members:
        if info.flag_bits & 0x1:
            raise FileRejected(f"{info.filename} in the zip is encrypted")

        def open_member(member: zipfile.ZipInfo = info) -> IO[bytes]:
            member_stream = _ZipMember(archive, member)
            capped = _Capped(member_stream, _label(member.filename), budget, member)
            return cast(IO[bytes], io.BufferedReader(capped, CHUNK))

        with open_member() as member_stream:
            head = member_stream.read(SNIFF_BYTES)
            _inflate_through(member_stream)
        openers.append((info, open_member))
        parts.extend(_classify(info.filename, head, open_member, (*layers, "zip"), depth + 1, budget=budget))
    _refuse_copies(openers)
    return parts


def _refuse_copies(members: list[tuple[zipfile.ZipInfo, Callable[[], IO[bytes]]]]) -> None:
    """Two members with the same bytes are one file zipped twice (`credits (1).csv`): read as two parts,
    its credits would count twice. Only members of the same CRC and size are compared (the CRC was
    checked as each member was inflated), so distinct parts cost nothing."""
    seen: dict[tuple[int, int], list[tuple[zipfile.ZipInfo, Callable[[], IO[bytes]]]]] = {}
    for info, opener in members:
        for other, other_opener in seen.get((info.CRC, info.file_size), []):
            if _same_bytes(opener, other_opener):
                raise FileRejected(
                    f"{_label(other.filename)} and {_label(info.filename)} in the zip are the same file twice "
                    "(identical bytes): reading both would count its credits twice; upload it once"
                )
        seen.setdefault((info.CRC, info.file_size), []).append((info, opener))


def _refuse_two_deliveries(members: list[zipfile.ZipInfo]) -> None:
    """AWS names the parts of a delivery alike every time (`report-1.csv.gz`) and puts each delivery of a
    period in a folder of its own (a CUR's assembly id, a restated export's run): the same part name twice
    in one period's folders is that period delivered twice (say, a restatement), which read together would
    count its credits twice. The same name under two periods (`BILLING_PERIOD=2025-12/`, `=2026-01/`)
    is two months, and read."""
    seen: dict[tuple[tuple[str, ...], str], zipfile.ZipInfo] = {}
    for info in members:
        folder, _, base = info.filename.rpartition("/")
        periods = next((tuple(found) for kind in _PERIOD_FOLDERS if (found := kind.findall(folder))), ())
        other = seen.setdefault((periods, base), info)
        if other is not info:
            period = f" of period {', '.join(periods)}" if periods else ""
            raise FileRejected(
                f"{_label(base)} is in the zip twice, from two deliveries{period} "
                f"({_label(other.filename)}, {_label(info.filename)}): read together, its credits "
                "would count twice; upload one delivery (the newest: its manifest names its parts)"
            )


def _same_bytes(first: Callable[[], IO[bytes]], second: Callable[[], IO[bytes]]) -> bool:
    with first() as one, second() as two:
        while True:
            chunk = one.read(CHUNK)
            if chunk != two.read(CHUNK):
                return False
            if not chunk:
                return True


@dataclass
class _Budget:
    """What the upload's streams decompressed, together: a zip of many members is one upload."""

    limits: ArchiveLimits
    uploaded: int  # bytes of the upload itself
    # The most read from each stream: a stream read again from its start (detection, then rows) counts once.
    streams: dict[object, int] = field(default_factory=dict)

    def read(self, stream: object, size: int) -> int:
        """Note that `stream` reached `size` bytes; the bytes of every stream so far."""
        self.streams[stream] = max(size, self.streams.get(stream, 0))
        return sum(self.streams.values())


def _inflate_through(stream: IO[bytes]) -> None:
    """Decompress a stream to its end before any row is parsed: inflating runs at hundreds of MB a
    second, parsing far slower, so a bomb meets the limits here in seconds, not near the timeout."""
    while stream.read(INFLATE_CHUNK):
        pass
    stream.close()


class _Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes | None: ...
    def close(self) -> None: ...


class _Capped(io.RawIOBase):
    """A decompressed stream that stops at the limits: a bomb is refused in seconds, not at the timeout."""

    def __init__(self, inner: "_Readable", name: str, budget: _Budget, stream: object) -> None:
        super().__init__()
        self._inner, self._name, self._budget, self._stream = inner, name, budget, stream
        self._read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._inner.read(len(buffer)) or b""
        self._read += len(data)
        total = self._budget.read(self._stream, self._read)
        limits = self._budget.limits
        # The upload's other streams count too: a zip of many members, each just under the limits, is a bomb.
        what = f"{self._name} decompresses" if total == self._read else "the archive's files together decompress"
        if total > limits.max_decompressed_bytes:
            raise FileRejected(
                f"{what} to more than {limits.max_decompressed_bytes:,} bytes "
                "(MAX_DECOMPRESSED_BYTES): too large for one run, or a decompression bomb"
            )
        ratio = total // self._budget.uploaded
        if total > limits.ratio_checked_after and ratio > limits.max_compression_ratio:
            raise FileRejected(
                f"{what} to over {ratio}x its uploaded size "
                f"(limit {limits.max_compression_ratio}x, MAX_COMPRESSION_RATIO): a decompression bomb"
            )
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._inner.close()
        super().close()


def _label(name: str) -> str:
    """An archive member's name as a label only: never a path we open, and safe to print."""
    return safe_text(name, limit=120) or "the file"


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
