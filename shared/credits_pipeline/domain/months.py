"""Billing months as `YYYY-MM` strings: their bounds, and the months an object key names.

`key_months` is the one reading of a key: the file identity, the headerless formats and the operator
scripts all call it, so they never disagree about which month a file is for.
"""

import re
from datetime import date

MIN_YEAR, MAX_YEAR = 2000, 2099
MONTH_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"  # not \d: pydantic's regex \d matches any Unicode digit
_MONTH_TOKEN = re.compile(r"(?<!\d)(\d{4})-(0[1-9]|1[0-2])(?!\d)")
# A back-fill spans a few years at most; a wider range in a name is a typo, not 600 months to replace.
MAX_RANGE_MONTHS = 60


class NoMonth(ValueError):
    """No single billing month can be read; the message is the reason."""


def in_bounds(year: int) -> bool:
    return MIN_YEAR <= year <= MAX_YEAR


def month_tokens(name: str) -> list[str]:
    """Every distinct `YYYY-MM` token (years MIN_YEAR..MAX_YEAR) in a text, in order of appearance."""
    seen: list[str] = []
    for year, month in _MONTH_TOKEN.findall(name):
        token = f"{year}-{month}"
        if in_bounds(int(year)) and token not in seen:
            seen.append(token)
    return seen


def key_months(key: str) -> list[str]:
    """The months an object key names: those in the file name, else those anywhere in the key.

    `incoming/credits-2026-01.csv` and `incoming/2026-01/credits.csv` both name 2026-01.
    """
    return month_tokens(key.rsplit("/", 1)[-1]) or month_tokens(key)


# What to do about a file whose month comes from its name when the name gives none.
NAME_IT = "upload it named for its month (e.g. credits-2026-01.csv)"


def month_from_key(key: str) -> str:
    """The one month a key names, such as `incoming/credits-2026-01.csv`."""
    tokens = key_months(key)
    if not tokens:
        raise NoMonth(f"no YYYY-MM month ({MIN_YEAR}-{MAX_YEAR}) in the file name {key!r}")
    if len(tokens) > 1:
        raise NoMonth(f"the file name {key!r} names several months: {', '.join(tokens)}")
    return tokens[0]


def month_range_from_key(key: str) -> list[str]:
    """The months a back-fill's key names: `credits-2025-01_2025-12.csv` -> 2025-01 .. 2025-12."""
    tokens = key_months(key)
    if len(tokens) != 2:
        named = ", ".join(tokens) if tokens else "none"
        raise NoMonth(
            f"a headerless file with several amount columns needs a month range in its name "
            f"(credits-2025-01_2025-12.csv); {key!r} names {named}"
        )
    return months_between(tokens[0], tokens[1])


def month_start(month: str) -> str:
    """`2026-01` -> `2026-01-01T00:00:00Z`, the form CloudZero's billing drops take."""
    return f"{month}-01T00:00:00Z"


def next_month(month: str) -> str:
    year, number = int(month[:4]), int(month[5:7])
    first = date(year + number // 12, number % 12 + 1, 1)
    return first.strftime("%Y-%m")


def months_between(first: str, last: str) -> list[str]:
    """Inclusive range of months, `2025-01`..`2025-03` -> three months."""
    if last < first:
        raise NoMonth(f"month range {first}..{last} runs backwards")
    span = (int(last[:4]) - int(first[:4])) * 12 + int(last[5:7]) - int(first[5:7]) + 1
    if span > MAX_RANGE_MONTHS:
        raise NoMonth(f"month range {first}..{last} spans {span} months, more than {MAX_RANGE_MONTHS}")
    months = [first]
    while months[-1] != last:
        months.append(next_month(months[-1]))
    return months
