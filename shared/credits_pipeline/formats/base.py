"""The contract every credit file format fulfils, and the errors formats raise."""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext
from typing import Literal, Protocol

from credits_pipeline.domain.accounts import account_set
from credits_pipeline.domain.credits import CreditColumns, CreditLine, RowOutcome
from credits_pipeline.domain.text import safe_text

DEFAULT_DESCRIPTION = "AWS credit"
DEFAULT_SERVICE = "AWSCredits"
# A reason quotes the file (header names, cells); a report keeps it in one DynamoDB item (400 KB at most).
MAX_REASON_CHARS = 2_000


class FileRejected(Exception):
    """A file that can never succeed: rejected once, whole, with a reason naming file and line.

    `problems` lists the first problems with their line numbers (and, when there were more, a last
    entry counting the rest by kind); `problem_counts` counts every problem by kind and
    `problems_total` says how many there were in all.
    """

    def __init__(
        self,
        reason: str,
        *,
        line: int | None = None,
        problems: list[str] | None = None,
        problem_counts: dict[str, int] | None = None,
        problems_total: int | None = None,
        format_id: str | None = None,
    ) -> None:
        if len(reason) > MAX_REASON_CHARS:
            reason = safe_text(reason, limit=MAX_REASON_CHARS)
        super().__init__(reason)
        self.reason = reason
        self.line = line
        self.problems = problems or []
        self.problem_counts = problem_counts or {}
        self.problems_total = problems_total if problems_total is not None else len(self.problems)
        # The format the file was read as, when the rejection came after detection.
        self.format_id = format_id

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}" if self.line is not None else self.reason


@dataclass(frozen=True)
class ArchiveLimits:
    """What an upload may expand to. A compressed upload is inflated to its end before any row is parsed
    (inflating runs at hundreds of MB a second), so a bomb is refused in seconds whatever the caps. The
    size cap is what one run can parse: a CUR or FOCUS file is read as columns (formats.columnar) and is
    instead inflated once, as it is read, under the same limits. The row readers of the other formats
    are far slower than inflating, so a hand-made file of several GiB would not finish in the splitter's
    300 s; lower MAX_DECOMPRESSED_BYTES to fail such files fast rather than at the timeout. The inflated
    text of a file read row by row is spooled to /tmp: the splitter's EphemeralStorage holds the cap."""

    # Decompressed bytes of all streams read from the upload together (a gzip, the members of a zip).
    # A CUR or FOCUS file is read by the columnar engine at inflating speed (10M CUR rows, ~5 GB of
    # text, in well under a minute); the row readers of other formats are slower (see above).
    max_decompressed_bytes: int = 8 * 1024**3
    # Decompressed / uploaded bytes; checked once a stream passed `ratio_checked_after` bytes, so small
    # repetitive files pass. Real credit files compress 5-50x; DEFLATE bombs come near its 1,032x limit.
    max_compression_ratio: int = 250
    ratio_checked_after: int = 64 * 1024**2
    # Members of a zip (a multi-part CUR has a handful).
    max_archive_members: int = 200
    # Columns in one row of a text file (a CUR has a few hundred).
    max_columns: int = 2_000


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
    # What a credit is called and filed under when its format has no description / service.
    default_description: str = DEFAULT_DESCRIPTION
    default_service: str = DEFAULT_SERVICE
    # How many source line numbers one summed credit keeps (a CUR can sum thousands of hourly rows).
    max_lines_per_credit: int = 100
    # One part of a multi-file export: a part with no credit rows is fine (the export as a whole is judged).
    part_of_export: bool = False
    # A short account id is zero-padded (spreadsheets drop leading zeros) and listed in the report;
    # False refuses it as an invalid row instead (a dropped digit would credit another account).
    pad_account_ids: bool = True
    # Hostile or broken archives are refused before they cost the function its timeout or memory.
    limits: ArchiveLimits = field(default_factory=ArchiveLimits)
    # CUR and FOCUS tables are read as columns (formats.columnar); False reads every file row by row,
    # the reference the columnar reader is held to (tests/unit/formats/test_columnar.py).
    columnar: bool = True
    # The UTC date the file is read on, which tells a month that is over from one still running (a Cost
    # Explorer file covering part of a month is read while the month runs, rejected once it is over).
    # None: the clock's date at the time of reading; tests pin it.
    today: date | None = None

    def __post_init__(self) -> None:
        # One reading of the known-accounts list, however the config was built.
        object.__setattr__(self, "known_accounts", account_set(self.known_accounts))

    def reading_date(self) -> date:
        """The UTC date the file is read on."""
        return self.today if self.today is not None else datetime.now(UTC).date()


# How a format's rows combine: "collapse" drops identical repeats and rejects conflicting ones
# (the headerless file states one amount per account); "sum" adds them (hourly CUR rows).
DuplicatePolicy = Literal["collapse", "sum"]

# What a format's `line` numbers count: text lines, Parquet rows, or JSON records.
LineUnit = Literal["line", "row", "record"]


@dataclass(frozen=True)
class FormatInfo:
    """What a report says about how a file was read."""

    format_id: str
    title: str = ""
    # The container and text layout, e.g. `gzip > csv (',' UTF-8, CRLF)` or `parquet`.
    layout: str = ""
    # Which column gives the amount, and why (FOCUS has two candidates).
    amount_column: str = ""
    # Role (account, month, amount, ...) -> the column of the file that gives it.
    columns: tuple[tuple[str, str], ...] = ()
    # How the amount's sign is read: `signed` (AWS: credits negative) or `magnitude`.
    sign_rule: str = ""
    month_source: str = ""
    line_unit: LineUnit = "line"
    # Where the header row is (1 unless title rows come first); 0 when the file has none.
    header_line: int = 0


@dataclass(frozen=True, slots=True)
class IgnoredRows:
    """Many rows of one other type at once (Parquet counts them without a Python object per row)."""

    row_type: str
    count: int


@dataclass(frozen=True, slots=True)
class CreditBlock:
    """Many credit lines at once, as columns (the headerless file's clean rows, read without an object each).

    The reader vouches for every credit in it: non-zero, its account id as written (not padded) and
    known (when a known-accounts list is set), and its (month, account, service, description) in no
    other credit row of the file, so no duplicate or conflict can involve it. `currencies`: how many of
    its rows named each currency, in the order the file first names them.
    """

    columns: CreditColumns
    currencies: tuple[tuple[str, int], ...] = ()


CENT = Decimal("0.01")
_TO_CENTS = Context(prec=200, rounding=ROUND_HALF_UP)


def to_cents(value: Decimal) -> Decimal:
    """A figure to the cent, halves away from zero (as invoices round)."""
    with localcontext(_TO_CENTS):
        return value.quantize(CENT)


@dataclass(frozen=True, slots=True)
class TotalCheck:
    """A total the file states, and what the credits read under it add up to (see formats.totals).

    Both figures are CloudZero costs (credits negative); `magnitude`: the file writes credits as
    positive magnitudes, so messages show them that way.
    """

    line: int
    what: str  # e.g. "the Total row", "the InvoiceTotal rows of invoice 123", "column Total costs($)"
    stated: Decimal
    read: Decimal
    magnitude: bool = False
    # Why the figures may differ, when the reader can tell (e.g. the total counts duplicate rows).
    hint: str = ""

    @property
    def agrees(self) -> bool:
        return to_cents(self.stated) == to_cents(self.read)

    def shown(self, value: Decimal) -> Decimal:
        """A figure as the file writes it."""
        return value.copy_abs() if self.magnitude else value


@dataclass(frozen=True, slots=True)
class CreditGroup:
    """Credit rows summed by the columnar reader (formats.columnar): what `rows` credit lines of one
    month, account, service, description and currency add up to, without an object per row.

    `credit` reads as the group's first row would, its cost the exact sum; `lines` are the group's
    first lines, ascending (as many as a credit keeps). Every row of a group has a non-zero amount, a
    known 12-digit account id (not padded): the rows normalise decides one by one come as CreditLines.
    """

    credit: CreditLine
    rows: int
    lines: tuple[int, ...]


FormatRow = RowOutcome | IgnoredRows | TotalCheck | CreditBlock | CreditGroup


class CreditFormat(Protocol):
    """A file shape: `format_id` is `name/version`, e.g. `aws-cur/1` or `focus/1.2`."""

    format_id: str
    duplicate_policy: DuplicatePolicy

    @property
    def info(self) -> FormatInfo:
        """How the file is read, for the report."""
        ...

    @property
    def notes(self) -> list[str]:
        """What the operator should know that is not a skipped row; complete once `rows` is exhausted."""
        ...

    def rows(self) -> Iterator[FormatRow]:
        """Every row of the file as a credit line, a skipped row or an ignored row; then a check for
        each total the file states."""
        ...


class FormatReader:
    """What the readers share: `info` is fixed when the file is opened; no notes unless a reader has some."""

    info: FormatInfo

    @property
    def notes(self) -> list[str]:
        return []
