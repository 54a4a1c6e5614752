"""The format layer: detect a credit file's shape from its content and read it.

`read_credit_file` is the one entry point: the splitter, replay and the preview command call it.
Formats import no boto3 and read nothing but the stream they are given; pyarrow is imported only
when a file is Parquet.
"""

import csv
import gzip
import json
import struct
import zipfile
import zlib
from collections.abc import Iterator
from typing import BinaryIO

from credits_pipeline.domain.credits import CreditFile
from credits_pipeline.formats.base import (
    DEFAULT_DESCRIPTION,
    DEFAULT_SERVICE,
    CreditFormat,
    FileRejected,
    FormatRow,
    ParseConfig,
)
from credits_pipeline.formats.containers import open_content
from credits_pipeline.formats.mapping import InvalidColumnMapping
from credits_pipeline.formats.normalise import normalise
from credits_pipeline.formats.registry import detect, validate_column_mappings

# What broken bytes raise inside decompressors and parsers: a clear rejection. Nothing broader: any
# other exception (a MemoryError, a full /tmp, a bug of ours) fails the invocation loudly and is retried,
# never dressed up as a bad file.
_UNREADABLE: tuple[type[BaseException], ...] = (
    gzip.BadGzipFile,
    EOFError,  # a truncated gzip
    zlib.error,
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    json.JSONDecodeError,
    RecursionError,  # JSON nested beyond what a parser follows
    csv.Error,
    struct.error,  # a damaged zip header
    UnicodeError,
)


def _is_unreadable(error: BaseException) -> bool:
    # pyarrow's own errors are turned into rejections where Parquet is read (sources.ParquetSource).
    return isinstance(error, _UNREADABLE)


def _unreadable(error: BaseException) -> FileRejected:
    detail = str(error).strip().splitlines()[0][:200] if str(error).strip() else ""
    cause = f"{type(error).__name__}: {detail}" if detail else type(error).__name__
    return FileRejected(f"the file is damaged or not a credit file: binary content that cannot be read ({cause})")


def detect_format(data: BinaryIO, name: str, config: ParseConfig) -> CreditFormat:
    """The format whose signature the content matches; FileRejected names why none does."""
    try:
        return detect(open_content(data, config.limits), name, config)
    except Exception as error:
        if isinstance(error, FileRejected) or not _is_unreadable(error):
            raise
        raise _unreadable(error) from None


def _guarded(rows: Iterator[FormatRow]) -> Iterator[FormatRow]:
    """A format's rows, with low-level read errors (truncated gzip, bad Parquet) as FileRejected."""
    try:
        yield from rows
    except Exception as error:
        if isinstance(error, FileRejected) or not _is_unreadable(error):
            raise
        raise _unreadable(error) from None


def read_credit_file(data: BinaryIO, name: str, config: ParseConfig) -> CreditFile:
    """Detect, parse and normalise a credit file. `data` must be seekable (a spooled download).

    Raises FileRejected for a file that must be rejected whole, InvalidColumnMapping (a
    ValueError) when `config.column_mappings` is itself wrong.
    """
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
