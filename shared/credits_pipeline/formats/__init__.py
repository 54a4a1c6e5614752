"""The format layer: detect a credit file's shape from its content and read it.

`read_credit_file` is the one entry point: the splitter, replay and the preview command call it.
"""

from typing import BinaryIO

from credits_pipeline.formats.base import CreditFormat, FileRejected, ParseConfig
from credits_pipeline.formats.headerless import HeaderlessFormat, looks_headerless
from credits_pipeline.formats.text import check_text, peek, sample_rows
from credits_pipeline.normalise import CreditFile, normalise

DEFAULT_DESCRIPTION = "AWS credit"
DEFAULT_SERVICE = "AWSCredits"


def detect_format(data: BinaryIO, name: str, config: ParseConfig) -> CreditFormat:
    """The format whose signature the content matches; FileRejected names why none does."""
    head = peek(data)
    check_text(head)
    rows = sample_rows(head)
    if not rows:
        raise FileRejected("the file is empty")
    line, fields = rows[0]
    if looks_headerless(fields):
        return HeaderlessFormat(data, name, DEFAULT_DESCRIPTION, DEFAULT_SERVICE)
    raise FileRejected(f"unknown file shape: first row {fields[:6]!r} matches no known format", line=line)


def read_credit_file(data: BinaryIO, name: str, config: ParseConfig) -> CreditFile:
    """Detect, parse and normalise a credit file. `data` must be seekable (a spooled download)."""
    credit_format = detect_format(data, name, config)
    return normalise(credit_format.format_id, credit_format.duplicate_policy, credit_format.rows(), config)


__all__ = ["CreditFile", "FileRejected", "ParseConfig", "detect_format", "read_credit_file"]
