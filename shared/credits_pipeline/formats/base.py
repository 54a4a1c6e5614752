"""The contract every credit file format fulfils, and the errors formats raise."""

from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal, Protocol

from credits_pipeline.credit_line import RowOutcome


class FileRejected(Exception):
    """A file that can never succeed: rejected once, whole, with a reason naming file and line."""

    def __init__(self, reason: str, *, line: int | None = None, problems: list[str] | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = line
        self.problems = problems or []

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}" if self.line is not None else self.reason


@dataclass(frozen=True)
class ParseConfig:
    """Decisions that are configuration, not code."""

    # Accounts outside this set are skipped as `unknown account`; None accepts every valid id.
    known_accounts: frozenset[str] | None = None
    # A file whose invalid rows exceed this share of its credit rows is rejected whole.
    max_invalid_share: Decimal = Decimal("0.10")
    # Currencies a file may carry; more than one distinct currency is rejected unless all are listed.
    currencies: frozenset[str] = frozenset({"USD"})
    # How many skipped rows a report lists in full; the rest are counted by reason.
    skipped_detail_limit: int = 500
    # Extra column mappings supplied as configuration (JSON objects), see formats.mapping.
    column_mappings: tuple[dict[str, object], ...] = field(default_factory=tuple)


# How a format's rows combine: "collapse" drops identical repeats and rejects conflicting ones
# (the headerless file states one amount per account); "sum" adds them (hourly CUR rows).
DuplicatePolicy = Literal["collapse", "sum"]


class CreditFormat(Protocol):
    """A file shape: `format_id` is `name/version`, e.g. `aws-cur/1` or `focus/1.2`."""

    format_id: str
    duplicate_policy: DuplicatePolicy

    def rows(self) -> Iterator[RowOutcome]:
        """Every row of the file as a credit line, a skipped row or an ignored row."""
        ...
