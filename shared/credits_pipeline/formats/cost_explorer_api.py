"""AWS Cost Explorer `GetCostAndUsage` responses: `Filter` RECORD_TYPE = Credit, `GroupBy` LINKED_ACCOUNT.

`{"GroupDefinitions": [...], "ResultsByTime": [{"TimePeriod": {"Start", "End"}, "Groups": [{"Keys":
[account], "Metrics": {"UnblendedCost": {"Amount", "Unit"}}}], "Estimated"}], "NextPageToken"}`: one
response, or several pages saved one after another, as a list, or as JSON Lines.

- Each group is a credit of its account (`Keys[0]`, or the key at LINKED_ACCOUNT's place in
  `GroupDefinitions`) in the month of `TimePeriod.Start`, amount `Metrics.UnblendedCost.Amount`
  (credits negative, kept signed), currency `.Unit`. Periods (daily or monthly) are summed per month.
  With a second group-by, `SERVICE` gives the service and `RECORD_TYPE` keeps only `Credit` groups.
- The response holds no totals when grouped (`Total` is empty), so there is nothing to check; instead
  the pages are checked as every reader of saved pages checks them (json_records.Pagination): some page
  has no `NextPageToken` (else a page is missing) and no two pages have the same one (else a page was
  saved twice); and no group appears twice for one period (a page saved twice, whatever its token).
- Periods must cover whole months: each `ResultsByTime` entry covers its `TimePeriod`, whatever its groups (a
  day without credits has `"Groups": []`); `Estimated` periods are read and counted in a note, and a month
  with an Estimated period is the month in progress, read even if its periods end before it does
  (formats.cost_explorer).

Detection goes through the JSON record source (the groups are its records). The groups' months live
in their enclosing `ResultsByTime` entries, which the record source does not keep, so the reader
parses each saved page itself, numbers kept as text; a Cost Explorer response is small (a page holds
the groups of one request), and a file over `MAX_RESPONSE_CHARS` is refused rather than loaded.
"""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from credits_pipeline.domain.accounts import InvalidAccountId
from credits_pipeline.domain.credits import CreditLine, IgnoredRow, SkippedRow
from credits_pipeline.domain.money import InvalidAmount
from credits_pipeline.formats.base import (
    DuplicatePolicy,
    FileRejected,
    FormatInfo,
    FormatReader,
    FormatRow,
    ParseConfig,
)
from credits_pipeline.formats.containers import Content
from credits_pipeline.formats.cost_explorer import CREDIT_FILTER, PeriodCoverage, SignWatch
from credits_pipeline.formats.json_records import Pagination
from credits_pipeline.formats.sources import Header, JsonSource, RowSource, describe_layers, opened
from credits_pipeline.formats.tabular import SIGN_RULES, FormatEntry, Match
from credits_pipeline.formats.text import encoding_of, text_stream
from credits_pipeline.formats.values import AccountReader, AmountReader, InvalidMonth, header_key, parse_month

FORMAT_ID = "aws-cost-explorer-api/1"
TITLE = "AWS Cost Explorer GetCostAndUsage response (RECORD_TYPE Credit, grouped by LINKED_ACCOUNT)"
MAX_RESPONSE_CHARS = 64 * 1024**2
_SIGNATURE = ("Keys", "Metrics.UnblendedCost.Amount")


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not a number")


_DECODER = json.JSONDecoder(parse_float=str, parse_int=str, parse_constant=_no_constant)


class CostExplorerApi(FormatEntry):
    format_id = FORMAT_ID
    title = TITLE
    priority = 60
    export_parts = True  # a response saved page by page: the files of a zip are its pages

    def match(self, header: Header) -> Match:
        keys = set(header.keys)
        missing = tuple(name for name in _SIGNATURE if header_key(name) not in keys)
        present = len(_SIGNATURE) - len(missing)
        return Match(
            entry=self,
            full=not missing,
            present=present,
            required=len(_SIGNATURE),
            missing=missing,
            score=(self.priority, present),
            header=header,
        )

    def open(self, match: Match, source: RowSource, name: str, config: ParseConfig) -> "CostExplorerApiFormat":
        if not isinstance(source, JsonSource):
            raise FileRejected("a Cost Explorer response is read as the JSON the API returns, not flattened to a table")
        return CostExplorerApiFormat(source.content, config)


@dataclass(frozen=True)
class _Dimensions:
    """Where each group-by dimension sits in a group's `Keys`."""

    account: int = 0
    service: int | None = None
    record_type: int | None = None

    @classmethod
    def of(cls, definitions: object) -> "_Dimensions":
        if not isinstance(definitions, list):
            raise FileRejected("GroupDefinitions is not a list: not a GetCostAndUsage response")
        keys = [str(item.get("Key", "")) if isinstance(item, dict) else "" for item in definitions]
        if "LINKED_ACCOUNT" not in keys:
            raise FileRejected(
                f"the response is grouped by {', '.join(keys) or 'nothing'}, not LINKED_ACCOUNT: credits need "
                f"their accounts (GroupBy LINKED_ACCOUNT, {CREDIT_FILTER})"
            )
        return cls(
            account=keys.index("LINKED_ACCOUNT"),
            service=keys.index("SERVICE") if "SERVICE" in keys else None,
            record_type=keys.index("RECORD_TYPE") if "RECORD_TYPE" in keys else None,
        )


class CostExplorerApiFormat(FormatReader):
    format_id = FORMAT_ID
    duplicate_policy: DuplicatePolicy = "sum"

    def __init__(self, content: Content, config: ParseConfig) -> None:
        self.content = content
        self.config = config
        self._accounts = AccountReader(pad=config.pad_account_ids)
        self._amounts = AmountReader()
        self._coverage = PeriodCoverage(config.reading_date(), end_exclusive=True)
        self._signs = SignWatch()
        self._estimated = 0
        self._seen: set[tuple[str, str, tuple[str, ...]]] = set()
        self.info = FormatInfo(
            format_id=FORMAT_ID,
            title=TITLE,
            layout=describe_layers(content),
            amount_column="Groups[].Metrics.UnblendedCost.Amount, signed as Cost Explorer gives it (credits negative)",
            columns=(
                ("account", "Groups[].Keys (LINKED_ACCOUNT)"),
                ("month", "ResultsByTime[].TimePeriod.Start"),
                ("amount", "Groups[].Metrics.UnblendedCost.Amount"),
                ("currency", "Groups[].Metrics.UnblendedCost.Unit"),
            ),
            sign_rule=SIGN_RULES["signed"],
            month_source="ResultsByTime[].TimePeriod.Start",
            line_unit="record",
        )

    @property
    def notes(self) -> list[str]:
        notes = self._coverage.notes()
        if self._estimated:
            groups = "1 credit is" if self._estimated == 1 else f"{self._estimated} credits are"
            notes.append(f"{groups} in periods Cost Explorer marks Estimated: a later file for the month replaces them")
        return notes

    def _pages(self) -> Iterator[dict[str, object]]:
        """Every saved page (response object), in file order."""
        for part in self.content.parts:
            with opened(part) as stream:
                text = text_stream(stream, encoding_of(part.head)).read(MAX_RESPONSE_CHARS + 1)
            if len(text) > MAX_RESPONSE_CHARS:
                raise FileRejected(
                    f"the JSON is larger than {MAX_RESPONSE_CHARS // 1024**2} MiB: too large for Cost Explorer "
                    "responses (save each month's pages in its own file)"
                )
            position = 0
            while True:
                while position < len(text) and (text[position].isspace() or text[position] in ",\ufeff"):
                    position += 1
                if position >= len(text):
                    break
                try:
                    value, position = _DECODER.raw_decode(text, position)
                except json.JSONDecodeError:
                    raise  # told as damaged content by read_credit_file
                except ValueError as error:  # NaN, Infinity
                    raise FileRejected(f"unreadable JSON: {error}") from None
                for page in value if isinstance(value, list) else [value]:
                    if not isinstance(page, dict) or not isinstance(page.get("ResultsByTime", []), list):
                        raise FileRejected("the JSON holds something other than GetCostAndUsage responses")
                    yield page

    def rows(self) -> Iterator[FormatRow]:
        record = 0
        pagination = Pagination()
        dimensions = _Dimensions()
        for number, page in enumerate(self._pages(), start=1):
            pagination.add(page, f"page {number}", line=record + 1)
            if "GroupDefinitions" in page:
                dimensions = _Dimensions.of(page["GroupDefinitions"])
            results = page.get("ResultsByTime", [])
            for result in results if isinstance(results, list) else []:  # a list: checked in _pages
                groups = result.get("Groups") if isinstance(result, dict) else None
                if not isinstance(result, dict) or not isinstance(groups, list):
                    record += 1
                    yield SkippedRow(record, None, "a ResultsByTime entry without a list of Groups")
                    continue
                period = _period(result.get("TimePeriod"))
                estimated = result.get("Estimated") is True
                if not isinstance(period, str):
                    # The period is covered whatever its groups: a day without credits has `"Groups": []`.
                    month, start, end = period
                    line = record + 1 if groups else None  # its first group, if it has one
                    self._coverage.add(month, start, end, line=line, estimated=estimated)
                for group in groups:
                    record += 1
                    if isinstance(period, str):
                        yield SkippedRow(record, None, period)
                        continue
                    yield self._group(record, group, period, dimensions, estimated)
        pagination.check()
        self._coverage.check()
        self._signs.check()

    def _group(
        self, record: int, group: object, period: tuple[str, date, date], dimensions: _Dimensions, estimated: bool
    ) -> CreditLine | SkippedRow | IgnoredRow:
        month, start, end = period
        keys = group.get("Keys") if isinstance(group, dict) else None
        if not isinstance(group, dict) or not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
            return SkippedRow(record, None, "a group without a list of Keys")
        if dimensions.account >= len(keys):
            return SkippedRow(record, None, f"group keys {keys} do not hold the linked account")
        seen = (start.isoformat(), end.isoformat(), tuple(keys))
        if seen in self._seen:
            raise FileRejected(
                f"group {keys} appears twice for the period {start.isoformat()}..{end.isoformat()}: "
                "a page is saved twice in the file",
                line=record,
            )
        self._seen.add(seen)  # bounded: the file is at most MAX_RESPONSE_CHARS
        if dimensions.record_type is not None and keys[dimensions.record_type].casefold() != "credit":
            return IgnoredRow(record, keys[dimensions.record_type])
        try:
            account_id, padded = self._accounts.read(keys[dimensions.account])
        except InvalidAccountId as error:
            return SkippedRow(record, keys[dimensions.account] or None, str(error))
        metric = group.get("Metrics")
        cost = metric.get("UnblendedCost") if isinstance(metric, dict) else None
        amount_text = cost.get("Amount") if isinstance(cost, dict) else None
        if not isinstance(cost, dict) or not isinstance(amount_text, str):
            return SkippedRow(record, account_id, "no Metrics.UnblendedCost.Amount")
        try:
            amount, _ = self._amounts.read(amount_text)
        except InvalidAmount as error:
            return SkippedRow(record, account_id, str(error))
        if amount == 0:
            return IgnoredRow(record, "no credit in the period")
        self._signs.add(month, amount, record)
        if estimated:
            self._estimated += 1
        service = keys[dimensions.service] if dimensions.service is not None else ""
        unit = cost.get("Unit")
        return CreditLine(
            record,
            account_id,
            month,
            amount,
            self.config.default_description,
            service.strip() or self.config.default_service,
            unit.strip().upper() if isinstance(unit, str) else "",
            padded=padded,
        )


def _period(value: object) -> tuple[str, date, date] | str:
    """(month, start, end exclusive) of a TimePeriod, or why it is not one."""
    if not isinstance(value, dict):
        return "a ResultsByTime entry without a TimePeriod"
    start_text, end_text = value.get("Start"), value.get("End")
    try:
        start = date.fromisoformat(str(start_text))
        end = date.fromisoformat(str(end_text))
    except ValueError:
        return f"TimePeriod {start_text!r}..{end_text!r} is not two dates"
    if end <= start:
        return f"TimePeriod {start_text}..{end_text} ends before it starts"
    try:
        return parse_month(start.isoformat()), start, end
    except InvalidMonth as error:
        return str(error)


SPECS = (CostExplorerApi(),)
