"""Cost Explorer: the console's CSV download (a transposed table with totals) and `GetCostAndUsage` responses."""

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

Response = dict[str, Any]

# `--group-by Type=DIMENSION,Key=LINKED_ACCOUNT`: one group per linked account.
LINKED_ACCOUNT_GROUPING = [{"Type": "DIMENSION", "Key": "LINKED_ACCOUNT"}]


def _total(cells: Sequence[str]) -> str:
    return format(sum((Decimal(cell) for cell in cells if cell), Decimal(0)), "f")


def ce_table(
    periods: Mapping[str, Sequence[str]], accounts: Sequence[str], dimension: str = "Linked account"
) -> list[list[str]]:
    """The console's table: header, the totals row, then one row per period (one cell per account, "" blank).

    Each row ends with its total and the totals row holds each column's, as the console writes them.
    """
    rows = [[period, *cells, _total(cells)] for period, cells in periods.items()]
    columns = [[row[index] for row in rows] for index in range(1, len(accounts) + 2)]
    return [[dimension, *accounts, "Total costs($)"], [f"{dimension} total", *map(_total, columns)], *rows]


def ce_group(account: str, amount: str) -> Response:
    """One group of a period: an account's `UnblendedCost`, the amount as written."""
    return {"Keys": [account], "Metrics": {"UnblendedCost": {"Amount": amount, "Unit": "USD"}}}


def ce_result(start: str, end: str, groups: list[Response], estimated: bool = False) -> Response:
    """One period of `ResultsByTime` (`end` exclusive); Cost Explorer marks a month not over `Estimated`."""
    return {"TimePeriod": {"Start": start, "End": end}, "Total": {}, "Groups": groups, "Estimated": estimated}


def ce_account_attribute(account: str, name: str) -> Response:
    """One entry of `DimensionValueAttributes`: the account's name."""
    return {"Value": account, "Attributes": {"description": name}}


def ce_response(results: list[Response], attributes: list[Response], next_page_token: str | None = None) -> Response:
    """A `GetCostAndUsage` response grouped by linked account, as `aws ce get-cost-and-usage` prints it."""
    head = {"NextPageToken": next_page_token} if next_page_token else {}
    return head | {
        "GroupDefinitions": LINKED_ACCOUNT_GROUPING,
        "ResultsByTime": results,
        "DimensionValueAttributes": attributes,
    }
