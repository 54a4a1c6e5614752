"""Billing months as `YYYY-MM` strings."""

import re
from datetime import date

_MONTH_TOKEN = re.compile(r"(?<!\d)(\d{4})-(0[1-9]|1[0-2])(?!\d)")


class NoMonth(ValueError):
    """No single billing month can be read; the message is the reason."""


def month_tokens(name: str) -> list[str]:
    """Every distinct `YYYY-MM` token in a name, in order of appearance."""
    seen: list[str] = []
    for year, month in _MONTH_TOKEN.findall(name):
        token = f"{year}-{month}"
        if token not in seen:
            seen.append(token)
    return seen


def month_from_name(name: str) -> str:
    """The one `YYYY-MM` month named in an object key such as `incoming/credits-2026-01.csv`."""
    tokens = month_tokens(name.rsplit("/", 1)[-1]) or month_tokens(name)
    if not tokens:
        raise NoMonth(f"no YYYY-MM month in the file name {name!r}")
    if len(tokens) > 1:
        raise NoMonth(f"the file name {name!r} names several months: {', '.join(tokens)}")
    return tokens[0]


def month_start(month: str) -> str:
    """`2026-01` -> `2026-01-01T00:00:00Z`, the form CloudZero's billing drops take."""
    return f"{month}-01T00:00:00Z"


def next_month(month: str) -> str:
    year, number = int(month[:4]), int(month[5:7])
    first = date(year + number // 12, number % 12 + 1, 1)
    return first.strftime("%Y-%m")


# A back-fill spans a few years at most; a wider range in a name is a typo, not 600 months to replace.
MAX_RANGE_MONTHS = 60


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
