"""The credit allocation history (`GetCreditAllocationHistory`): entries and the shapes they are saved in."""

import json
from collections.abc import Sequence
from typing import Any

from testdata.encode import csv_text

Entry = dict[str, Any]

# The flattened CSV's columns, as a JSON-to-CSV export names them.
FLAT_COLUMNS = (
    "creditId",
    "accountId",
    "billingMonth",
    "creditAmount.currencyAmount",
    "creditAmount.currencyCode",
    "description",
    "appliedServiceName",
    "isEstimatedBill",
)


def allocation_entry(
    account: str,
    month: str,
    amount: str,
    *,
    service: str = "Amazon Elastic Compute Cloud",
    credit_id: str = "1001",
    description: str = "AWS Activate Credits",
    estimated: bool = False,
    currency: str = "USD",
) -> Entry:
    """One entry as the API answers it; `amount` is signed as written (credits negative)."""
    return {
        "creditId": credit_id,
        "creditAmount": {"currencyAmount": amount, "currencyCode": currency},
        "description": description,
        "accountId": account,
        "appliedServiceName": service,
        "billingMonth": month,
        "isEstimatedBill": estimated,
    }


def numbered_entries(count: int, accounts: int = 50, month: str = "2025-03", amount: str = "-0.01") -> list[Entry]:
    """`count` entries spread over `accounts` numbered accounts (100000000000, ...), one amount each."""
    return [
        allocation_entry(f"{100_000_000_000 + number % accounts}", month, amount, service="EC2", credit_id=str(number))
        for number in range(count)
    ]


def allocation_response(entries: Sequence[Entry], next_token: str | None = None, indent: int | None = 2) -> str:
    """One API response as saved (`aws ce get-credit-allocation-history > file.json`)."""
    return json.dumps({"creditAllocationHistoryList": list(entries), "nextToken": next_token}, indent=indent)


def allocation_pages(entries: Sequence[Entry], first_page: int) -> str:
    """Two saved pages in one JSON list: the first `first_page` entries, then the rest."""
    pages = [
        {"creditAllocationHistoryList": list(entries[:first_page]), "nextToken": "AAAA"},
        {"creditAllocationHistoryList": list(entries[first_page:]), "nextToken": None},
    ]
    return json.dumps(pages, indent=2)


def allocation_jsonl(entries: Sequence[Entry]) -> str:
    return "".join(json.dumps(entry) + "\n" for entry in entries)


def allocation_csv(entries: Sequence[Entry]) -> str:
    """The entries flattened to CSV (`creditAmount.currencyAmount`; booleans as `true`/`false`)."""
    table = [list(FLAT_COLUMNS)]
    for entry in entries:
        amount = entry["creditAmount"]
        flat = entry | {
            "creditAmount.currencyAmount": amount["currencyAmount"],
            "creditAmount.currencyCode": amount["currencyCode"],
        }
        table.append([str(flat[c]).lower() if isinstance(flat[c], bool) else str(flat[c]) for c in FLAT_COLUMNS])
    return csv_text(table)
