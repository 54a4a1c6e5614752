"""What the two Cost Explorer shapes (the console's CSV download, the API's JSON) share.

Cost Explorer answers for whatever date range was asked, not for billing months, and its record-type
filter is not in the file. A month goes to CloudZero as one `replace_drop`, so:
- a month whose periods start after its first day, or skip days, would replace the whole month with
  part of it: the file is rejected, naming the month;
- a month whose periods end before its last day (the current, unfinished month) is read, with a note;
- with the Record type filter set to Credit the amounts are credits (negative; a positive one is a rare
  reversal): a file in which some month's amounts add up to more than zero is costs, not credits, and is
  rejected, naming the month's first line.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, localcontext
from itertools import pairwise

from credits_pipeline.domain.credits import EXACT
from credits_pipeline.domain.money import format_money
from credits_pipeline.formats.base import FileRejected

CREDIT_FILTER = "set the Record type filter to Credit"


def next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


@dataclass
class _Month:
    starts: set[date] = field(default_factory=set)
    # (start, end exclusive) of each period, when the file says where periods end (the API does)
    spans: set[tuple[date, date]] = field(default_factory=set)


class PeriodCoverage:
    """The periods a file covers, per billing month (`YYYY-MM`)."""

    def __init__(self) -> None:
        self._months: dict[str, _Month] = {}

    def add(self, month: str, start: date, end: date | None = None) -> None:
        entry = self._months.setdefault(month, _Month())
        entry.starts.add(start)
        if end is not None:
            entry.spans.add((start, end))

    def check(self) -> None:
        """FileRejected naming the first month the periods do not cover from its first day on."""
        for month, entry in sorted(self._months.items()):
            first = min(entry.starts)
            if first.day != 1:
                raise FileRejected(
                    f"the file's periods for {month} start on {first.isoformat()}: the month would replace "
                    f"the whole of {month} in CloudZero without its first {first.day - 1} day(s); "
                    "download whole months (a date range starting on the 1st)"
                )
            if entry.spans:
                covered = first
                for start, end in sorted(entry.spans):
                    if start > covered:
                        raise FileRejected(
                            f"the file has no period from {covered.isoformat()} to {start.isoformat()} in {month}: "
                            "a page of the response or a day is missing"
                        )
                    covered = max(covered, end)
            elif len(entry.starts) > 1:  # daily rows: one per day, none may be missing
                days = sorted(entry.starts)
                for previous, current in pairwise(days):
                    if current - previous > timedelta(days=1):
                        raise FileRejected(
                            f"the file has no row for {(previous + timedelta(days=1)).isoformat()} in {month}: "
                            "a day is missing from the download"
                        )

    def notes(self) -> list[str]:
        """Months whose periods end before the month does (the month is not over yet)."""
        # A download's rows have no ends: with several rows in some month the download is daily (it has
        # one granularity), so each row ends the next day. A monthly row says nothing of its end.
        daily = any(len(entry.starts) > 1 for entry in self._months.values() if not entry.spans)
        notes = []
        for month, entry in sorted(self._months.items()):
            if entry.spans:
                last_end = max(end for _, end in entry.spans)
            elif daily:
                last_end = max(entry.starts) + timedelta(days=1)
            else:
                continue
            month_end = next_month(min(entry.starts))
            if last_end < month_end:
                notes.append(
                    f"{month} is covered only up to {last_end.isoformat()} (the month is not over): "
                    "a later file for the month replaces it"
                )
        return notes


class SignWatch:
    """Cost Explorer filtered to Record type = Credit gives credits, negative (a reversal is positive): the
    amounts of a month add up to less than zero. One rule for both Cost Explorer readers."""

    def __init__(self) -> None:
        self.negative = 0
        self.positive = 0
        self._first_line: int | None = None
        # month -> (what its amounts add up to, the line of its first amount)
        self._months: dict[str, tuple[Decimal, int]] = {}

    def add(self, month: str, amount: Decimal, line: int) -> None:
        if amount < 0:
            self.negative += 1
        elif amount > 0:
            self.positive += 1
        if self._first_line is None:
            self._first_line = line
        net, first = self._months.get(month, (Decimal(0), line))
        with localcontext(EXACT):
            self._months[month] = (net + amount, first)

    def check(self) -> None:
        if self.positive and not self.negative:
            raise FileRejected(_costs(f"every amount in the file is positive ({self.positive})"), line=self._first_line)
        for month, (net, line) in sorted(self._months.items()):
            if net > 0:
                raise FileRejected(_costs(f"the amounts for {month} add up to +{format_money(net)}"), line=line)


def _costs(what: str) -> str:
    return f"{what}: these look like costs, not credits ({CREDIT_FILTER} before downloading)"
