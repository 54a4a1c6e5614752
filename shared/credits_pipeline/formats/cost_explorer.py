"""What the two Cost Explorer shapes (the console's CSV download, the API's JSON) share.

Cost Explorer answers for whatever date range was asked, not for billing months, and its record-type
filter is not in the file. A month goes to CloudZero as one `replace_drop`, so:
- a month whose periods start after its first day, or skip days, would replace the whole month with
  part of it: the file is rejected, naming the month;
- a month whose periods end before its last day is read, with a note, while the month runs (on the day
  the file is read, UTC, or while the API marks it Estimated); once the month is over it would replace
  the whole month with part of it: the file is rejected, naming the month and what the file covers;
- with the Record type filter set to Credit the amounts are credits (negative; a positive one is a rare
  reversal): a file in which some month's amounts add up to more than zero is costs, not credits, and is
  rejected, naming the month's first line.
"""

from collections.abc import Iterator
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
    # Cost Explorer marks a period whose costs are not final (the month in progress) Estimated.
    estimated: bool = False
    # The period that starts last (where the coverage ends), and its line when the reader says it.
    last_start: date | None = None
    last_line: int | None = None


class PeriodCoverage:
    """The periods a file covers, per billing month (`YYYY-MM`); `today`: the UTC date the file is read on
    (ParseConfig.reading_date), which says which months are over."""

    def __init__(self, today: date, *, end_exclusive: bool = False) -> None:
        self._months: dict[str, _Month] = {}
        self._today = today
        # The file's periods came from a request whose End is exclusive (the API): the advice names that End.
        self._end_exclusive = end_exclusive

    def add(
        self, month: str, start: date, end: date | None = None, *, line: int | None = None, estimated: bool = False
    ) -> None:
        entry = self._months.setdefault(month, _Month())
        if entry.last_start is None or start > entry.last_start:
            entry.last_start, entry.last_line = start, line
        entry.starts.add(start)
        if end is not None:
            entry.spans.add((start, end))
        entry.estimated = entry.estimated or estimated

    def check(self) -> None:
        """FileRejected naming the first month the periods do not cover from its first day on, or, once the
        month is over, to its last."""
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
        for month, entry, covered_to in self._short_months():
            month_end = next_month(min(entry.starts))
            if entry.estimated or self._today < month_end:
                continue  # the month in progress: read, with a note
            last_day = (covered_to - timedelta(days=1)).isoformat()
            if self._end_exclusive:
                advice = (
                    f"request the whole month: TimePeriod Start {month}-01, End {month_end.isoformat()} (End is "
                    "exclusive: the next month's first day)"
                )
            else:
                through = (month_end - timedelta(days=1)).isoformat()
                advice = f"download the whole month (a date range through {through})"
            raise FileRejected(
                f"the file covers {month} only from {min(entry.starts).isoformat()} through {last_day}, and "
                f"{month} is over (today is {self._today.isoformat()}, UTC): sent, the part would replace the "
                f"whole of {month} in CloudZero; {advice}",
                line=entry.last_line,
            )

    def _short_months(self) -> Iterator[tuple[str, _Month, date]]:
        """(month, its periods, where they end) of each month whose periods end before the month does."""
        # A download's rows have no ends: with several rows in some month the download is daily (it has
        # one granularity), so each row ends the next day. A monthly row says nothing of its end.
        daily = any(len(entry.starts) > 1 for entry in self._months.values() if not entry.spans)
        for month, entry in sorted(self._months.items()):
            if entry.spans:
                last_end = max(end for _, end in entry.spans)
            elif daily:
                last_end = max(entry.starts) + timedelta(days=1)
            else:
                continue
            if last_end < next_month(min(entry.starts)):
                yield month, entry, last_end

    def notes(self) -> list[str]:
        """Months whose periods end before the month does (the month is not over yet: `check` rejects the others)."""
        return [
            f"{month} is covered only up to {covered_to.isoformat()} (the month is not over): "
            "a later file for the month replaces it"
            for month, _, covered_to in self._short_months()
        ]


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
