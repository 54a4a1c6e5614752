"""Cell values as real files write them: header names, empty markers, amounts, months, account ids.

Everything here runs once per row of files with millions of rows: regular expressions are compiled
once, and values that repeat (months, account ids) are read once and remembered (bounded).
"""

import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import NamedTuple

from credits_pipeline.domain.accounts import InvalidAccountId, is_short_id, normalise_account_id
from credits_pipeline.domain.money import InvalidAmount
from credits_pipeline.domain.months import MAX_YEAR, MIN_YEAR, in_bounds

# Public sample data writes empty values as the string NULL; spreadsheets write N/A and the like.
EMPTY_MARKERS = frozenset({"", "null", "none", "n/a", "na", "nan", "-null-", "#n/a"})
_CACHE_LIMIT = 50_000

# Amounts beyond these bounds are not credits but broken cells (or hostile input); within them every
# digit is kept and sums stay exact (see domain.credits.EXACT).
MAX_AMOUNT = Decimal("1e30")
MIN_EXPONENT = -40


def header_key(name: str) -> str:
    """How header names compare: case, spaces, punctuation and a BOM do not matter.

    `lineItem/UsageAccountId`, `line_item_usage_account_id` and `Line Item Usage Account ID` all give
    `lineitemusageaccountid`; formats that must tell such spellings apart check the raw names too.
    """
    return "".join(ch for ch in name.casefold() if ch.isalnum() and ch.isascii())


def is_empty(value: str) -> bool:
    return value.strip().casefold() in EMPTY_MARKERS


def clean_text(value: str) -> str:
    """A text cell with empty markers (NULL, N/A) read as empty."""
    stripped = value.strip()
    return "" if stripped.casefold() in EMPTY_MARKERS else stripped


# --- amounts ---------------------------------------------------------------------------------------

_PLAIN_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
_SYMBOLS = {"$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR"}
_CODE = re.compile(r"(?<![A-Z])([A-Z]{3})(?![A-Z])")
_KNOWN_CODES = frozenset(
    {"USD", "EUR", "GBP", "JPY", "INR", "CAD", "AUD", "CHF", "CNY", "SEK", "NOK", "DKK", "BRL", "KRW", "NZD"}
)
_BODY = re.compile(r"[\d.,]*\d[\d.,]*(?:[eE][-+]?\d+)?")
_DASHES = "-\u2013\u2014\u2212"
_THOUSANDS_GROUPS = re.compile(r"[1-9]\d{0,2}(?:X\d{3})+")
_EXPONENT = re.compile(r"\d\s*[eE][-+]?\d")  # `1.5E+3`, not the E of `EUR`


def _valid_grouping(integer_part: str, separator: str) -> bool:
    """`1,234,567` is a thousands grouping; `1,23` and `0,123` are not."""
    return bool(_THOUSANDS_GROUPS.fullmatch(integer_part.replace(separator, "X")))


class AmountReader:
    """Reads amounts with one file's decimal mark.

    A value that shows its decimal mark (`1.234,56`, `12,5`, `0.50`) is read as it shows it. Only a
    value whose one separator is followed by exactly three digits (`1,234` / `1.234`) is ambiguous;
    it takes the file's mark, `decimal_comma`, decided from the file's delimiter and its other values.
    Scientific notation never groups thousands: the one separator of `1,234E+3` is its decimal mark.
    """

    def __init__(self, *, decimal_comma: bool = False) -> None:
        self.decimal_comma = decimal_comma

    def read(self, text: str) -> tuple[Decimal, str]:
        """(amount, currency named by a symbol or code in the text, or "")."""
        raw = text.strip()
        if _PLAIN_NUMBER.fullmatch(raw) and not (self.decimal_comma and "." in raw):
            return self._checked(self._decimal(raw, text), text), ""
        return self._read_decorated(raw, text)

    def _read_decorated(self, raw: str, text: str) -> tuple[Decimal, str]:
        if raw.casefold() in EMPTY_MARKERS:
            raise InvalidAmount("empty amount")
        body = raw.replace("\u00a0", " ").replace("\u202f", " ")
        currencies = {code for symbol, code in _SYMBOLS.items() if symbol in body}
        for symbol in _SYMBOLS:
            body = body.replace(symbol, "")
        for code in _CODE.findall(body.upper()):
            if code in _KNOWN_CODES:
                currencies.add(code)
                body = re.sub(code, "", body, flags=re.IGNORECASE)
        if len(currencies) > 1:
            raise InvalidAmount(f"amount {text.strip()!r} names several currencies")
        currency = next(iter(currencies), "")
        body = body.replace(" ", "").replace("'", "")
        negative = False
        if body.startswith("(") and body.endswith(")"):
            negative, body = True, body[1:-1]
        if body and body[0] in _DASHES:
            negative, body = not negative, body[1:]
        elif body.startswith("+"):
            body = body[1:]
        elif body and body[-1] in _DASHES and len(body) > 1:  # accounting: `100.00-`
            negative, body = not negative, body[:-1]
        if body == "" or all(ch in _DASHES for ch in body):
            if body == "" and not negative and (not currency or any(ch.isalpha() for ch in raw)):
                raise InvalidAmount(f"not an amount: {text.strip()!r}")
            return Decimal(0), currency  # accounting style writes zero as `$ -`
        if not _BODY.fullmatch(body):
            raise InvalidAmount(f"not an amount: {text.strip()!r}")
        value = self._checked(self._decimal(self._plain(body, text), text), text)
        return (value.copy_negate() if negative else value), currency

    def _plain(self, body: str, text: str) -> str:
        """`1,234.56` / `1.234,56` / `12,5` -> `1234.56` / `1234.56` / `12.5`."""
        mantissa, exponent = body, ""
        for mark in ("e", "E"):
            if mark in body:
                mantissa, _, rest = body.partition(mark)
                exponent = mark + rest
        commas, dots = mantissa.count(","), mantissa.count(".")
        if exponent and commas + dots > 1:  # scientific notation never groups thousands
            raise InvalidAmount(f"amount {text.strip()!r} groups thousands in a number with an exponent")
        if commas and dots:
            decimal_mark = "," if mantissa.rfind(",") > mantissa.rfind(".") else "."
        elif commas or dots:
            separator = "," if commas else "."
            integer, _, fraction = mantissa.rpartition(separator)
            if exponent:
                decimal_mark = separator  # not a grouping: `1,234E+3` is 1.234E+3 in any file
            elif mantissa.count(separator) > 1:
                decimal_mark = "." if separator == "," else ","  # several: thousands separators
            elif len(fraction) == 3 and _valid_grouping(mantissa, separator):
                decimal_mark = "," if self.decimal_comma else "."  # ambiguous: the file's mark
            else:
                decimal_mark = separator
        else:
            return body
        thousands = "." if decimal_mark == "," else ","
        integer, _, fraction = mantissa.rpartition(decimal_mark) if decimal_mark in mantissa else (mantissa, "", "")
        if decimal_mark in mantissa and thousands in fraction:
            raise InvalidAmount(f"not an amount: {text.strip()!r}")
        if thousands in integer and not _valid_grouping(integer, thousands):
            raise InvalidAmount(f"amount {text.strip()!r} has misplaced thousands separators")
        integer = integer.replace(thousands, "")
        if decimal_mark not in mantissa:
            return integer + exponent
        return f"{integer or '0'}.{fraction or '0'}{exponent}"

    @staticmethod
    def _decimal(number: str, text: str) -> Decimal:
        try:
            return Decimal(number)
        except InvalidOperation:  # an exponent beyond what Decimal holds: `1e999999999999999999999`
            raise InvalidAmount(f"amount {text.strip()!r} is out of range") from None

    @staticmethod
    def _checked(value: Decimal, text: str) -> Decimal:
        if not value.is_finite():
            raise InvalidAmount(f"not an amount: {text.strip()!r}")
        if value.copy_abs() >= MAX_AMOUNT:
            raise InvalidAmount(f"amount {text.strip()!r} is out of range")
        exponent = value.as_tuple().exponent
        if isinstance(exponent, int) and exponent < MIN_EXPONENT and value != 0:
            raise InvalidAmount(f"amount {text.strip()!r} has more than {-MIN_EXPONENT} decimal places")
        return value


def unambiguous_decimal_mark(text: str) -> str | None:
    """`,` or `.` when a value shows which is its decimal mark, None when it does not say."""
    body = re.sub(r"[^\d,.]", "", text.split("e", maxsplit=1)[0].split("E", maxsplit=1)[0])
    commas, dots = body.count(","), body.count(".")
    if _EXPONENT.search(text):  # scientific notation never groups thousands: one separator is the mark
        return ("," if commas else ".") if commas + dots == 1 else None
    if commas and dots:
        return "," if body.rfind(",") > body.rfind(".") else "."
    for separator, count in ((",", commas), (".", dots)):
        if count == 1:
            fraction = body.rpartition(separator)[2]
            if len(fraction) != 3 or not _valid_grouping(body, separator):
                return separator
        elif count > 1:
            return "." if separator == "," else ","
    return None


def decide_decimal_comma(delimiter: str, sample_amounts: list[str]) -> bool:
    """The file's decimal mark for ambiguous values: what its clear values show, else by delimiter.

    With `;` as the delimiter a decimal comma is common (`1.234,56`); with `,` or tab, a point.
    """
    marks = {mark for mark in map(unambiguous_decimal_mark, sample_amounts) if mark}
    if marks == {","}:
        return True
    if marks == {"."}:
        return False
    return delimiter == ";"


# --- months ----------------------------------------------------------------------------------------

_MONTH_NAMES = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})(?:-(\d{1,2}))?(?P<rest>[T ].*)?")
# Only after a time (in a date, `-05` is the day): `+05:30`, `+0530`, or hours alone as Postgres and DuckDB write them.
_ISO_OFFSET = re.compile(r".*[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*([+-]\d{2}(?::?\d{2})?)$")
_YEAR_MONTH = re.compile(r"(\d{4})[/.](\d{1,2})")
_YEAR_FIRST_DATE = re.compile(r"(\d{4})([/.])(\d{1,2})\2(\d{1,2})(?:[T ].*)?")  # year first is always Y/M/D
_COMPACT = re.compile(r"(20\d{2})(0[1-9]|1[0-2])")
_MONTH_YEAR = re.compile(r"(\d{1,2})[/.\-](\d{4})")
_SLASH_DATE = re.compile(r"(\d{1,2})[/.](\d{1,2})[/.](\d{4})(?:[T ].*)?")
_NAMED = re.compile(r"([A-Za-z]{3,9})\.?[\s\-/,']*(\d{4})")
# A two-digit year right after the name or after a dash, a slash, a comma or an apostrophe (`Sep24`, `Sep-24`,
# `Sep/24`, `Sep, 24`, `Sep '24`). After a space alone (`Sep 24`) it is a day, except where the text is a month
# (`month_column`: `_NAMED_SPACE_YEAR`).
_NAMED_SHORT_YEAR = re.compile(r"([A-Za-z]{3,9})\.?(?:\s*(?:[-/,]\s*'?|')\s*)?(\d{2})")
_NAMED_SPACE_YEAR = re.compile(r"([A-Za-z]{3,9})\.?\s+(\d{2})")
_NAMED_NO_YEAR = re.compile(r"([A-Za-z]{3,9})\.?\s+\d{1,2}(?:st|nd|rd|th)?")  # `Sep 30`: a day, and no year
_NAMED_YEAR_FIRST = re.compile(r"(\d{4})[\s\-/,]*([A-Za-z]{3,9})")
_NAMED_DAY = re.compile(r"([A-Za-z]{3,9})\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+(\d{4})")
_DAY_NAMED = re.compile(r"\d{1,2}[\s\-/]([A-Za-z]{3,9})\.?[\s\-/,]+(\d{4}|\d{2})")


class InvalidMonth(ValueError):
    """A value that does not name one billing month; the message is the reason."""


def _starts_a_month(moment: datetime) -> bool:
    return moment.day == 1 and (moment.hour, moment.minute, moment.second, moment.microsecond) == (0, 0, 0, 0)


def _period_start_month(written: datetime, moment: datetime, raw: str) -> str:
    """The month a billing period starts, from its start with an offset: `written` as the file writes it, `moment`
    the same instant in UTC. A period starts at a month's first instant: written in local time
    (`2025-02-01T00:00:00+01:00`), the month as written; a UTC midnight written in local time (`2025-12-31
    19:00:00-05`, as Postgres and DuckDB write an instant), the month in UTC. A start that is neither names no
    month for sure (unless both say the same)."""
    if (written.year, written.month) == (moment.year, moment.month) or _starts_a_month(written):
        return _month(written.year, written.month, raw)
    if _starts_a_month(moment):
        return _month(moment.year, moment.month, raw)
    raise InvalidMonth(
        f"billing period start {raw!r} is not the start of a month, as written or in UTC: which month it starts "
        "is not known"
    )


def _month(year: int, month: int, text: str) -> str:
    if not 1 <= month <= 12:
        raise InvalidMonth(f"not a month: {text!r}")
    if not in_bounds(year):
        raise InvalidMonth(f"month {text!r} is outside {MIN_YEAR}-{MAX_YEAR}")
    return f"{year:04d}-{month:02d}"


def parse_month(text: str, *, period_start: bool = False, month_column: bool = False) -> str:
    """`YYYY-MM` from the ways billing periods and months are written.

    `2024-09`, `2024-09-01T00:00:00Z`, `...00.000Z`, `2024-09-01 00:00:00`, `2024/09/01 00:00:00`, `09/2024`, `Sep-24`,
    `Sep/24`, `Sep, 24`, `Sep24`, `Sep '24`, `Sep 2024`, `September 2024`, `202409`. A time with an offset (`-05:00`,
    `-0500`, `-05`) is moved to UTC first (AWS bills in UTC). A day/month date such as `09/01/2024` is refused: the
    order is not known; so is `Sep 30`, a day of a month with no year.

    `period_start`: the text is a billing period's start, the first instant of its month, which moved to UTC may
    fall in the month before (`2025-02-01T00:00:00+01:00`): see `_period_start_month`.
    `month_column`: the text is a month, never a date (a wide sheet's month header; a column whose header names a
    month, `is_month_header`): there `Sep 24` is September 2024 (elsewhere, a day with no year).
    """
    raw = text.strip().strip("'\"").strip()
    if not raw or raw.casefold() in EMPTY_MARKERS:
        raise InvalidMonth("missing month")
    if match := _ISO_DATE.fullmatch(raw):
        year, month, rest = int(match[1]), int(match[2]), match["rest"] or ""
        if match[3] is not None and not 1 <= int(match[3]) <= 31:
            raise InvalidMonth(f"not a date: {raw!r}")
        if rest and (offset := _ISO_OFFSET.fullmatch(raw)) and offset[1].replace(":", "") not in ("+00", "+0000"):
            try:
                written = datetime.fromisoformat(raw.replace(" ", "T", 1))
                moment = written.astimezone(UTC)
            except (ValueError, OverflowError):  # OverflowError: year 1 or 9999 moved off the calendar
                raise InvalidMonth(f"not a date: {raw!r}") from None
            if period_start:
                return _period_start_month(written, moment, raw)
            return _month(moment.year, moment.month, raw)
        return _month(year, month, raw)
    if match := _YEAR_MONTH.fullmatch(raw):
        return _month(int(match[1]), int(match[2]), raw)
    if match := _YEAR_FIRST_DATE.fullmatch(raw):  # the legacy billing CSV: `2026/05/01 00:00:00`
        if not 1 <= int(match[4]) <= 31:
            raise InvalidMonth(f"not a date: {raw!r}")
        return _month(int(match[1]), int(match[3]), raw)
    if match := _COMPACT.fullmatch(raw):
        return _month(int(match[1]), int(match[2]), raw)
    if match := _MONTH_YEAR.fullmatch(raw):
        return _month(int(match[2]), int(match[1]), raw)
    if match := _SLASH_DATE.fullmatch(raw):
        first, second, year = int(match[1]), int(match[2]), int(match[3])
        if first > 12 >= second:  # day/month
            return _month(year, second, raw)
        if second > 12 >= first or first == second:  # month/day
            return _month(year, first, raw)
        raise InvalidMonth(f"date {raw!r} is ambiguous (month/day or day/month?): write it as YYYY-MM")
    named = (_NAMED, _NAMED_SHORT_YEAR, _NAMED_SPACE_YEAR) if month_column else (_NAMED, _NAMED_SHORT_YEAR)
    for pattern in (*named, _NAMED_DAY, _DAY_NAMED):
        if (match := pattern.fullmatch(raw)) and (number := _MONTH_NAMES.get(match[1].casefold())):
            year = int(match[2])
            return _month(year + 2000 if year < 100 else year, number, raw)
    if match := _NAMED_YEAR_FIRST.fullmatch(raw):
        number = _MONTH_NAMES.get(match[2].casefold())
        if number is not None:
            return _month(int(match[1]), number, raw)
    if (match := _NAMED_NO_YEAR.fullmatch(raw)) and match[1].casefold() in _MONTH_NAMES:
        raise InvalidMonth(
            f"{raw!r} is a day of a month with no year: write the month as YYYY-MM (2024-09) or Sep 2024"
        )
    raise InvalidMonth(f"not a month: {raw!r}")


_WORD_OR_NUMBER = re.compile(r"[A-Za-z]+|\d+")
_NUMERIC_DATE = re.compile(
    r"(?<![\d.,])(?:\d{4}[/.\-]\d{1,2}|\d{1,2}[/.\-]\d{4}|\d{1,2}([/.\-])\d{1,2}\1\d{2,4})(?![\d.,])"
)


def looks_like_month(text: str) -> bool:
    """Whether a header cell names a month or a date, read or not: a month's name with a number (`Dec 2025
    (est)`, `Sep-24`) or alone (`October`), or a date in digits (`10/1/2025`, `2025-13`). A header that
    `parse_month` cannot read but that looks like this names a month the reader would otherwise lose."""
    raw = text.strip()
    if not raw:
        return False
    tokens = _WORD_OR_NUMBER.findall(raw)
    named = any(token.casefold() in _MONTH_NAMES for token in tokens)
    if named and (len(tokens) == 1 or any(token.isdigit() for token in tokens)):
        return True
    return bool(_NUMERIC_DATE.search(raw))


class _Remembered[T]:
    """A cell reader whose answers (the value, or its `error` to raise) are remembered per distinct text."""

    error_type: type[ValueError]

    def __init__(self) -> None:
        self._seen: dict[str, T | ValueError] = {}

    def read(self, text: str) -> T:
        known = self._seen.get(text)
        if known is None:
            try:
                known = self._parse(text)
            except self.error_type as error:
                known = error
            if len(self._seen) < _CACHE_LIMIT:
                self._seen[text] = known
        if isinstance(known, ValueError):
            raise known
        return known

    def _parse(self, text: str) -> T:
        raise NotImplementedError


# Headers of a column that holds months, never dates (`Date`, `Invoice Date` may hold days): see `parse_month`.
MONTH_HEADER_KEYS = frozenset({"month", "billingmonth", "invoicemonth", "usagemonth", "billingperiod", "period"})


def is_month_header(name: str) -> bool:
    """Whether a month column's header names a month (`Month`, `Billing Period`), not a date (`Date`): its values are
    read with `month_column`."""
    return header_key(name) in MONTH_HEADER_KEYS


class MonthReader(_Remembered[str]):
    """`parse_month` remembered per distinct value: a CUR repeats one billing period on every row.
    `period_start`: the values are billing periods' starts; `month_column`: they are months, never dates (see
    `parse_month`)."""

    error_type = InvalidMonth

    def __init__(self, *, period_start: bool = False, month_column: bool = False) -> None:
        super().__init__()
        self._period_start = period_start
        self._month_column = month_column

    def _parse(self, text: str) -> str:
        return parse_month(text, period_start=self._period_start, month_column=self._month_column)


# --- account ids -----------------------------------------------------------------------------------


class AccountCell(NamedTuple):
    """An account cell as read: its 12-digit id, and whether this cell wrote it short (read zero-padded).

    The report lists each padded row, whatever other rows of the file write for the same account: a dropped
    digit looks the same as a dropped leading zero.
    """

    account_id: str
    padded: bool


class AccountReader(_Remembered[AccountCell]):
    """`normalise_account_id` remembered per distinct value, with spreadsheet wrappers removed."""

    error_type = InvalidAccountId

    def __init__(self, *, pad: bool = True) -> None:
        super().__init__()
        self._pad = pad

    def _parse(self, text: str) -> AccountCell:
        raw = text.strip()
        if raw.startswith('="') and raw.endswith('"'):  # Excel's way of keeping leading zeros
            raw = raw[2:-1]
        if raw.casefold() in EMPTY_MARKERS:
            raw = ""
        return AccountCell(normalise_account_id(raw, pad=self._pad), is_short_id(raw))
