"""AWS Billing API credit allocation history (`GetCreditAllocationHistory`): JSON, or flattened CSV.

The API answers `{"creditAllocationHistoryList": [entry, ...], "nextToken": ...}`; each entry has
`accountId`, `billingMonth` (`YYYY-MM`), `creditAmount` (an Amount: `currencyAmount`,
`currencyCode`; negative values are credits that reduced the bill), `creditId`,
`appliedServiceName`, `description` and `isEstimatedBill`. The JSON reader accepts the response as
saved, a list of saved pages, a bare list of entries or JSON Lines (see json_records). Saved pages
are checked (json_records.Pagination): a page saved twice, or pages that all have a `nextToken` (one is
missing), reject the file; a bare list, JSON Lines and the CSV have no pages to check. A flattened
CSV names the amount `creditAmount.currencyAmount` (or `creditAmount_currencyAmount`, ...).
Amounts keep their sign (AWS-native). Entries on an estimated (not final) bill are read and
counted in a note: a later file for that month replaces them.

An entry is one credit (`creditId`) applied to one account's service in one month: two entries with the
same `creditId`, `accountId`, `billingMonth` and `appliedServiceName` are one entry twice (saved twice, in
any form, or a broken export), and the file is rejected naming both. Entries without a `creditId` cannot
be told apart from two credits, and are read.
"""

from credits_pipeline.domain.credits import CreditLine, IgnoredRow, SkippedRow
from credits_pipeline.formats.base import FileRejected, ParseConfig
from credits_pipeline.formats.sources import RowSource
from credits_pipeline.formats.tabular import Column, Match, TabularFormat, TabularSpec
from credits_pipeline.formats.values import clean_text, header_key

_CREDIT_ID_KEYS = frozenset({header_key("creditId")})


class AllocationSpec(TabularSpec):
    def open(self, match: Match, source: RowSource, name: str, config: ParseConfig) -> "AllocationFormat":
        return AllocationFormat(self, match, source, name, config)


class AllocationFormat(TabularFormat):
    """The allocation history read as its spec says, each entry's identity checked against the others'."""

    def __init__(self, spec: TabularSpec, match: Match, source: RowSource, name: str, config: ParseConfig) -> None:
        super().__init__(spec, match, source, name, config)
        self._credit_id = next((i for i, key in enumerate(match.header.keys) if key in _CREDIT_ID_KEYS), None)
        if self._credit_id is not None:
            self._needed = sorted({*self._needed, self._credit_id})
        # (creditId, account, month, service) -> the line of the entry; as many as the file has entries
        self._entries: dict[tuple[str, str, str, str], int] = {}

    def _row(self, line: int, cells: list[str]) -> CreditLine | SkippedRow | IgnoredRow:
        outcome = super()._row(line, cells)
        index = self._credit_id
        if not isinstance(outcome, CreditLine) or index is None or index >= len(cells):
            return outcome
        credit_id = clean_text(cells[index])
        if not credit_id:
            return outcome
        key = (credit_id, outcome.account_id, outcome.month, outcome.service)
        first = self._entries.setdefault(key, line)
        if first != line:
            unit = f"{self.info.line_unit}s"
            raise FileRejected(
                f"{unit} {first} and {line} are one credit allocation entry twice (creditId {credit_id}, "
                f"account {outcome.account_id}, billingMonth {outcome.month}, appliedServiceName "
                f"{outcome.service}): saved twice or a broken export; summed, its credit would count twice",
                line=line,
            )
        return outcome


CREDIT_ALLOCATION = AllocationSpec(
    format_id="aws-credit-allocation/1",
    title="AWS Billing credit allocation history (GetCreditAllocationHistory)",
    columns=(
        Column("account", ("accountId", "account_id"), required=True, label="accountId"),
        Column("month", ("billingMonth", "billing_month"), required=True, label="billingMonth"),
        Column(
            "amount",
            ("creditAmount.currencyAmount", "credit_amount.currency_amount", "currencyAmount"),
            required=True,
            label="creditAmount.currencyAmount",
        ),
        Column("currency", ("creditAmount.currencyCode", "credit_amount.currency_code", "currencyCode")),
        Column("description", ("description",)),
        Column("service", ("appliedServiceName", "applied_service_name")),
        Column("estimated", ("isEstimatedBill", "is_estimated_bill")),
    ),
    sign="signed",
    priority=30,
    markers=(("creditId", "credit_id", "appliedServiceName", "applied_service_name"),),
    amount_note="signed as the API gives it (credits negative)",
)

SPECS = (CREDIT_ALLOCATION,)
