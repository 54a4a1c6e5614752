"""The format layer: detect a credit file's shape from its content and read it.

`read_credit_file` is the one entry point: the splitter, replay and the preview command call it.
Formats import no boto3 and read nothing but the stream they are given. A CUR or FOCUS table (CSV,
gzip or Parquet) is read as columns by DuckDB (formats.columnar, imported only for such a file, and
for Parquet); every other file, and a table the columnar rules leave to it, row by row.
"""

import csv
import gzip
import json
import struct
import zipfile
import zlib
from collections.abc import Iterator
from typing import BinaryIO, cast

from isal import isal_zlib

from credits_pipeline.domain.credits import CreditFile
from credits_pipeline.formats.base import (
    DEFAULT_DESCRIPTION,
    DEFAULT_SERVICE,
    CreditFormat,
    FileRejected,
    FormatRow,
    ParseConfig,
)
from credits_pipeline.formats.containers import Content, open_content
from credits_pipeline.formats.mapping import InvalidColumnMapping
from credits_pipeline.formats.normalise import normalise
from credits_pipeline.formats.registry import detect, validate_column_mappings
from credits_pipeline.formats.tabular import TabularFormat

# What broken bytes raise inside decompressors and parsers: a clear rejection. Nothing broader: any
# other exception (a MemoryError, a full /tmp, a bug of ours) fails the invocation loudly and is retried,
# never dressed up as a bad file.
_UNREADABLE: tuple[type[BaseException], ...] = (
    gzip.BadGzipFile,
    EOFError,  # a truncated gzip
    zlib.error,
    cast(type[Exception], isal_zlib.error),  # a damaged gzip, as ISA-L's inflater says it (formats.containers)
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    json.JSONDecodeError,
    RecursionError,  # JSON nested beyond what a parser follows
    csv.Error,
    struct.error,  # a damaged zip header
    UnicodeError,
)


def _is_unreadable(error: BaseException) -> bool:
    # DuckDB's own errors are turned into rejections where it reads (sources.ParquetSource, formats.columnar).
    return isinstance(error, _UNREADABLE)


def _unreadable(error: BaseException) -> FileRejected:
    detail = str(error).strip().splitlines()[0][:200] if str(error).strip() else ""
    cause = f"{type(error).__name__}: {detail}" if detail else type(error).__name__
    return FileRejected(f"the file is damaged or not a credit file: binary content that cannot be read ({cause})")


def detect_format(data: BinaryIO, name: str, config: ParseConfig) -> CreditFormat:
    """The format whose signature the content matches; FileRejected names why none does."""
    return _detect(data, name, config)[0]


def _detect(data: BinaryIO, name: str, config: ParseConfig) -> tuple[CreditFormat, Content]:
    try:
        content = open_content(data, config.limits)
        return detect(content, name, config), content
    except Exception as error:
        if isinstance(error, FileRejected) or not _is_unreadable(error):
            raise
        raise _unreadable(error) from None


def _format_rows(credit_format: CreditFormat, content: Content, config: ParseConfig) -> Iterator[FormatRow]:
    """The format's rows: a CUR or FOCUS table as columns where it can be, else row by row (a compressed
    upload inflated to its end first, under the archive limits)."""
    if config.columnar and isinstance(credit_format, TabularFormat):
        from credits_pipeline.formats.columnar import read_as_columns  # noqa: PLC0415 - lazy: DuckDB

        read = read_as_columns(credit_format, config)
        if read is not None:
            yield from read
            return
    content.inflate_through()
    yield from credit_format.rows()


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
    credit_format, content = _detect(data, name, config)
    try:
        credit_file = normalise(
            credit_format.format_id,
            credit_format.duplicate_policy,
            _guarded(_format_rows(credit_format, content, config)),
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
