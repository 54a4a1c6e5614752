"""Totals a file states about itself (a `Total` row or column, Cost Explorer's totals, `InvoiceTotal`
rows): never credits, always checks. The credits read under a total must add up to it, to the cent.

A reader keeps a `TotalsLedger`: it adds every credit it reads under the scopes the file's totals can
cover (the whole file, a month, a line, an invoice, an account, a column) and records each stated
total with its scope. When the rows are read, the ledger yields one `TotalCheck` per stated total,
with both figures; `normalise` rejects the file when any check fails.

"The credits read" are the credit lines the reader produced, before any later decision: a credit of an
account outside the known-accounts list still counts (the file's total includes it), a row skipped as
invalid does not (the file then does not say what its total says). Where a format collapses identical
repeated rows (the headerless file), a repeat is counted once, as it is sent.
"""

import re
from collections.abc import Container, Hashable, Iterator
from dataclasses import dataclass
from decimal import Decimal, localcontext
from typing import Literal

from credits_pipeline.domain.credits import EXACT, CreditLine
from credits_pipeline.formats.base import FileRejected, TotalCheck
from credits_pipeline.formats.values import header_key

# A file stating more totals than this is not a credit file (every row a "total" is a hostile file).
MAX_TOTALS = 10_000

_TOTAL_WORDS = frozenset({"total", "totals", "grandtotal", "sum"})

Scope = tuple[Hashable, ...]
FILE: Scope = ("file",)

TotalKind = Literal["total", "subtotal"]


def total_label(text: str) -> TotalKind | None:
    """Whether a cell names a total row or column: `Total`, `Grand total`, `Totals:`, `Total costs($)`,
    `Linked account total`, `Sum` -> "total"; `Subtotal` -> "subtotal" (its scope is not stated, so it
    is passed over unchecked); anything else (an account id, a month) -> None."""
    key = header_key(text)
    if not key:
        return None
    if key.startswith("subtotal"):
        return "subtotal"
    if key in _TOTAL_WORDS or key.startswith(("total", "grandtotal")) or key.endswith(("total", "totals")):
        return "total"
    return None


_ACCOUNT_TOTAL = re.compile(r"\s*(?P<account>['=\"]*\d[\d\s\-\"]*?)\s+total\s*", re.IGNORECASE)


def account_of_total(text: str) -> str | None:
    """The account a total row's label names (`111122223333 Total`, as Excel's Data > Subtotal writes each
    account's subtotal), as written; None for any other label (`Total`, `Grand Total`, `2026-01 Total`:
    an id has at least 9 digits, a spreadsheet dropping at most three leading zeros; a date at most 8)."""
    match = _ACCOUNT_TOTAL.fullmatch(text)
    if match is None or sum(char.isdigit() for char in match["account"]) < 9:
        return None
    return match["account"]


def total_label_beside(cells: list[str], account_text: str, amounts: Container[int]) -> TotalKind | None:
    """A hand-made total row may be labelled in another cell than the account's (`Total,,150.00` under
    `Month,Account ID,Amount`, or a name column's `Total` beside a blank id): with the account cell blank,
    the first cell but an amount's that is a total label."""
    if account_text:
        return None
    for index, cell in enumerate(cells):
        if index not in amounts and (label := total_label(cell)):
            return label
    return None


@dataclass
class _Stated:
    line: int
    what: str
    cost: Decimal


class TotalsLedger:
    """Sums of the credits read per scope, and the totals the file states per scope.

    `collapse`: identical repeated credits (same month, account, service, description and amount) are
    counted once, as a format with the "collapse" duplicate policy sends them.
    """

    def __init__(self, *, magnitude: bool, collapse: bool = False) -> None:
        self.magnitude = magnitude
        self._collapse = collapse
        self._first: dict[tuple[str, str, str, str], Decimal] = {}
        self._read: dict[Scope, Decimal] = {}
        self._repeats: dict[Scope, Decimal] = {}  # identical repeats, not counted: a hint when a total has them
        self._stated: list[tuple[Scope, _Stated]] = []
        self._summed: dict[Scope, _Stated] = {}

    def credit(self, credit: CreditLine, *scopes: Scope) -> None:
        """Count a credit under the whole file, its month and `scopes`."""
        sums = self._read
        if self._collapse:
            key = (credit.month, credit.account_id, credit.service, credit.description)
            if key in self._first:
                sums = self._repeats  # a repeat: sent once (or the file is rejected for a conflicting amount)
            else:
                self._first[key] = credit.cost
        with localcontext(EXACT):
            for scope in (FILE, ("month", credit.month), *scopes):
                sums[scope] = sums.get(scope, Decimal(0)) + credit.cost

    @property
    def stated(self) -> bool:
        """Whether the file stated any total so far."""
        return bool(self._stated)

    def credit_sum(self, month: str, cost: Decimal) -> None:
        """Count many credits of `month` at once, their sum `cost`: credits no other row repeats."""
        with localcontext(EXACT):
            for scope in (FILE, ("month", month)):
                self._read[scope] = self._read.get(scope, Decimal(0)) + cost

    def state(self, scope: Scope, line: int, what: str, cost: Decimal, *, summed: bool = False) -> None:
        """A total the file states for `scope`, as a cost (credits negative).

        `summed`: the file states this scope's total in several rows that add up (an invoice's total
        written once per part of a bill); otherwise each stated total must equal the scope's credits alone.
        """
        if summed and scope in self._summed:
            with localcontext(EXACT):
                self._summed[scope].cost += cost
            return
        if len(self._stated) >= MAX_TOTALS:
            raise FileRejected(f"the file states more than {MAX_TOTALS:,} totals: not a credit file", line=line)
        entry = _Stated(line, what, cost)
        if summed:
            self._summed[scope] = entry
        self._stated.append((scope, entry))

    def checks(self) -> Iterator[TotalCheck]:
        """One check per stated total, in the order the file states them."""
        for scope, entry in self._stated:
            read = self._read.get(scope, Decimal(0))
            check = TotalCheck(entry.line, entry.what, entry.cost, read, self.magnitude)
            repeats = self._repeats.get(scope)
            if repeats and not check.agrees:
                with localcontext(EXACT):
                    counted = TotalCheck(entry.line, entry.what, entry.cost, read + repeats)
                if counted.agrees:
                    hint = "it counts the identical repeated rows too, which are sent once"
                    check = TotalCheck(entry.line, entry.what, entry.cost, read, self.magnitude, hint)
            yield check
