"""The format layer: detect a credit file's shape from its content and read it.

`read_credit_file` is the one entry point: the splitter, replay and the preview command call it.
Formats import no boto3 and read nothing but the stream they are given; pyarrow is imported only
when a file is Parquet.
"""

import csv
import struct
import zipfile
import zlib
from collections.abc import Iterator
from decimal import DecimalException
from typing import TYPE_CHECKING, Any, BinaryIO

from credits_pipeline.formats.base import (
    DEFAULT_DESCRIPTION,
    DEFAULT_SERVICE,
    CreditFormat,
    FileRejected,
    FormatRow,
    ParseConfig,
)
from credits_pipeline.formats.mapping import InvalidColumnMapping, validate_column_mappings

if TYPE_CHECKING:  # normalise imports formats.base: import it lazily to keep the import graph acyclic
    from credits_pipeline.normalise import CreditFile

# What broken bytes raise inside decompressors and parsers: a clear rejection, never a crash.
_UNREADABLE = (
    OSError,  # gzip.BadGzipFile, pyarrow's IO errors
    EOFError,  # a truncated gzip
    zlib.error,
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    NotImplementedError,  # a zip compression method Python lacks
    RuntimeError,  # an encrypted zip member
    ValueError,  # pyarrow.ArrowInvalid, json errors, a bad zip header
    DecimalException,
    RecursionError,
    csv.Error,
    struct.error,
    UnicodeError,
    OverflowError,
    MemoryError,
)


def _unreadable(error: BaseException) -> FileRejected:
    if isinstance(error, FileRejected):
        return error
    if isinstance(error, InvalidColumnMapping):
        raise error
    detail = str(error).strip().splitlines()[0][:200] if str(error).strip() else ""
    cause = f"{type(error).__name__}: {detail}" if detail else type(error).__name__
    return FileRejected(f"the file is damaged or not a credit file: binary content that cannot be read ({cause})")


def detect_format(data: BinaryIO, name: str, config: ParseConfig) -> CreditFormat:
    """The format whose signature the content matches; FileRejected names why none does."""
    from credits_pipeline.formats.containers import open_content  # noqa: PLC0415
    from credits_pipeline.formats.registry import detect  # noqa: PLC0415

    try:
        return detect(open_content(data), name, config)
    except InvalidColumnMapping:
        raise
    except FileRejected:
        raise
    except _UNREADABLE as error:
        raise _unreadable(error) from None


def _guarded(rows: Iterator[FormatRow]) -> Iterator[FormatRow]:
    """A format's rows, with low-level read errors (truncated gzip, bad Parquet) as FileRejected."""
    try:
        yield from rows
    except FileRejected:
        raise
    except _UNREADABLE as error:
        raise _unreadable(error) from None


def read_credit_file(data: BinaryIO, name: str, config: ParseConfig) -> "CreditFile":
    """Detect, parse and normalise a credit file. `data` must be seekable (a spooled download).

    Raises FileRejected for a file that must be rejected whole, InvalidColumnMapping (a
    ValueError) when `config.column_mappings` is itself wrong.
    """
    from credits_pipeline.normalise import normalise  # noqa: PLC0415 - see TYPE_CHECKING above

    credit_format = detect_format(data, name, config)
    try:
        credit_file = normalise(
            credit_format.format_id,
            credit_format.duplicate_policy,
            _guarded(credit_format.rows()),
            config,
            info=credit_format.info,
        )
    except FileRejected as rejection:
        if rejection.format_id is None:
            rejection.format_id = credit_format.format_id
            rejection.reason = f"read as {credit_format.format_id}: {rejection.reason}"
            rejection.args = (rejection.reason,)
        raise
    credit_file.notes.extend(credit_format.notes)
    return credit_file


def __getattr__(name: str) -> Any:
    if name == "CreditFile":  # re-exported lazily: normalise imports this package
        from credits_pipeline.normalise import CreditFile  # noqa: PLC0415

        return CreditFile
    raise AttributeError(name)


__all__ = [
    "DEFAULT_DESCRIPTION",
    "DEFAULT_SERVICE",
    "CreditFile",
    "FileRejected",
    "InvalidColumnMapping",
    "ParseConfig",
    "detect_format",
    "read_credit_file",
    "validate_column_mappings",
]
