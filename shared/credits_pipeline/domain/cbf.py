"""A month's credits -> CloudZero Common Bill Format rows and billing-drop bodies under the size limit.

A month goes as ONE `replace_drop` (it replaces the whole month). Only a body over the limit is
split: the first chunk `replace_drop`, the rest `sum`, to be sent strictly in order.

`prepare_bodies` writes the bodies straight from the credits (no model per account), chunk by chunk:
what the splitter stores and the pusher sends. `drop_bodies` builds the same bytes from a version-1
`MonthBatch` with `json.dumps`: the pusher's way for batches queued before prepared bodies.
"""

import hashlib
import json
import re
from array import array
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from itertools import accumulate
from typing import Literal

from credits_pipeline.domain.credits import (
    EXACT,
    SEPARATOR,
    AccountCredit,
    CreditColumns,
    exact_sum,
)
from credits_pipeline.domain.messages import MonthBatch
from credits_pipeline.domain.money import format_money
from credits_pipeline.domain.months import MONTH_PATTERN, month_start

# CloudZero's limit is "5 MB" without saying which; stay under the smaller reading (5,000,000 bytes), strictly:
# a body at the limit itself could be refused (413, final) after the month's first chunks replaced it.
MAX_BODY_BYTES = 4_999_999

Operation = Literal["replace_drop", "sum"]


@dataclass(frozen=True)
class MonthLimit:
    """What one CloudZero stream holds per month: "at most 1,000,000 rows and 70 MB in total".

    A month beyond it is never sent: CloudZero would refuse a later chunk after the first chunk's
    replace_drop had already replaced the month, leaving it cut short. The limit is configuration
    (CloudZero may raise it for a connection); the defaults are the API reference's.
    """

    rows: int = 1_000_000
    bytes: int = 70_000_000

    def exceeded_by(self, month: str, rows: int, size: int = 0, *, so_far: bool = False) -> str | None:
        """Why a month of `rows` CBF rows in bodies of `size` bytes (`so_far`: at least) cannot be sent, if it
        cannot."""
        if rows <= self.rows and size <= self.bytes:
            return None
        in_bytes = f" in {'at least ' if so_far else ''}{size:,} bytes of billing drops" if size else ""
        return (
            f"{month} would be {rows:,} CloudZero rows{in_bytes}, more than the "
            f"{self.rows:,} rows and {self.bytes:,} bytes a CloudZero stream holds per month"
        )


@dataclass(frozen=True)
class DropBody:
    """One request body, ready to send: its bytes are what the idempotency key hashes."""

    month: str
    chunk: int
    operation: Operation
    rows: int
    body: bytes

    @cached_property
    def sha256(self) -> str:
        # Once per body: the splitter names it in the manifest and in the upload's checksum, the pusher in
        # the drop's idempotency key (a month of a million accounts is ~185 MB of bodies).
        return hashlib.sha256(self.body).hexdigest()


def cbf_rows(batch: MonthBatch) -> list[dict[str, str]]:
    """One CBF row per account credit; every value a string, costs plain decimals (credits negative)."""
    start = month_start(batch.month)
    return [
        {
            "lineitem/type": "Credit",
            "lineitem/description": row.description,
            "time/usage_start": start,
            "resource/account": row.account_id,
            "resource/service": row.service,
            "cost/cost": format_money(row.cost),
        }
        for row in batch.credits
    ]


def _encode(month: str, operation: Operation, rows: list[dict[str, str]]) -> bytes:
    drop = {"month": month_start(month), "operation": operation, "data": rows}
    return json.dumps(drop, separators=(",", ":"), ensure_ascii=False).encode()


def drop_bodies(batch: MonthBatch, max_bytes: int = MAX_BODY_BYTES) -> list[DropBody]:
    """The month as few bodies as the size limit allows: usually exactly one `replace_drop`."""
    rows = cbf_rows(batch)
    if not rows:
        # An empty replace_drop would wipe the month in CloudZero.
        raise ValueError(f"the {batch.month} batch has no credits: nothing must be sent")
    whole = _encode(batch.month, "replace_drop", rows)
    if len(whole) <= max_bytes:
        return [DropBody(batch.month, 0, "replace_drop", len(rows), whole)]
    overhead = len(_encode(batch.month, "replace_drop", []))
    chunks: list[list[dict[str, str]]] = [[]]
    size = overhead
    for row in rows:
        row_size = len(json.dumps(row, separators=(",", ":"), ensure_ascii=False).encode())
        if overhead + row_size > max_bytes:
            raise ValueError(f"one CBF row is larger than {max_bytes} bytes")
        if chunks[-1] and size + 1 + row_size > max_bytes:  # 1: the comma before a row that is not first
            chunks.append([])
            size = overhead
        size += row_size + (1 if chunks[-1] else 0)
        chunks[-1].append(row)
    bodies = []
    for index, chunk in enumerate(chunks):
        operation: Operation = "replace_drop" if index == 0 else "sum"
        bodies.append(DropBody(batch.month, index, operation, len(chunk), _encode(batch.month, operation, chunk)))
    return bodies


@dataclass(frozen=True)
class PreparedBody:
    """One chunk of a month, as stored for the pusher: the body and the sum of its costs."""

    body: DropBody
    total: Decimal


def prepare_bodies(
    month: str, credits: Iterable[AccountCredit] | CreditColumns, max_bytes: int = MAX_BODY_BYTES
) -> Iterator[PreparedBody]:
    """The month's bodies, byte for byte what `drop_bodies` makes of the same credits, one chunk at a time.

    Each row is written from a template per (description, service): the strings are JSON-escaped as
    `json.dumps` escapes them; account ids (12 ASCII digits) and costs (plain decimals) need no escaping.
    """
    if not re.fullmatch(MONTH_PATTERN, month):
        raise ValueError(f"not a month: {month!r}")
    if isinstance(credits, CreditColumns):
        yield from _column_bodies(month, credits, max_bytes)
        return
    start = month_start(month)
    overhead = len(_encode(month, "replace_drop", []))
    templates: dict[tuple[str, str], tuple[str, str]] = {}
    rows: list[bytes] = []
    size = overhead
    total = Decimal(0)
    index = 0
    for credit in credits:
        account = credit.account_id
        # 12 ASCII digits, as MonthBatch's AccountCreditRow requires: nothing in it needs escaping in JSON.
        if not (len(account) == 12 and account.isascii() and account.isdigit() and credit.cost.is_finite()):
            raise ValueError(f"not a sendable credit: account {account!r}, cost {credit.cost!r}")
        template = templates.get((credit.description, credit.service))
        if template is None:
            template = templates[(credit.description, credit.service)] = _row_template(
                start, credit.description, credit.service
            )
        row = f'{template[0]}{account}{template[1]}{format_money(credit.cost)}"}}'.encode()
        row_size = len(row)
        if overhead + row_size > max_bytes:
            raise ValueError(f"one CBF row is larger than {max_bytes} bytes")
        if rows and size + 1 + row_size > max_bytes:  # 1: the comma before a row that is not first
            yield _prepared(month, index, rows, total)
            index, rows, size, total = index + 1, [], overhead, Decimal(0)
        size += row_size + (1 if rows else 0)
        rows.append(row)
        total = EXACT.add(total, credit.cost)
    if not rows:
        # An empty replace_drop would wipe the month in CloudZero.
        raise ValueError(f"the {month} batch has no credits: nothing must be sent")
    yield _prepared(month, index, rows, total)


def _column_bodies(month: str, columns: CreditColumns, max_bytes: int) -> Iterator[PreparedBody]:
    """`prepare_bodies` for credits held as columns: one template, each chunk written by a few string operations.

    A row is `before + account + between + "-" + magnitude + '"}'`: only the magnitude's length varies, so
    where each chunk ends is found from the running sum of the texts' lengths (the same greedy cut as above).
    """
    if columns.month != month:
        raise ValueError(f"the columns hold {columns.month}, not {month}")
    count = len(columns)
    if not count:
        raise ValueError(f"the {month} batch has no credits: nothing must be sent")
    before, between = _row_template(month_start(month), columns.description, columns.service)
    between += "-"
    # a text is account, separator, magnitude (ASCII): a row is the text with the template instead of the separator
    extra = len(before.encode()) + len(between.encode()) - len(SEPARATOR) + len('"}')
    overhead = len(_encode(month, "replace_drop", []))
    if overhead + extra + max(map(len, columns.texts)) > max_bytes:
        raise ValueError(f"one CBF row is larger than {max_bytes} bytes")
    lengths = array("q", accumulate(map(len, columns.texts), initial=0))  # lengths[i]: of the first i texts
    totals = []
    start, index = 0, 0
    while start < count:

        def size(stop: int, start: int = start) -> int:
            """The body of rows start..stop-1: its overhead, each row, a comma between rows."""
            return overhead + (stop - start) * (extra + 1) - 1 + lengths[stop] - lengths[start]

        stop = start + bisect_right(range(start + 1, count + 1), max_bytes, key=size)
        prepared = _column_chunk(month, index, columns.texts[start:stop], (before, between))
        totals.append(prepared.total)
        yield prepared
        start, index = stop, index + 1
    columns.total = exact_sum(totals)  # the month's total from its chunks': no second pass over the credits


def _column_chunk(month: str, index: int, texts: list[str], template: tuple[str, str]) -> PreparedBody:
    """The body of these texts' credits, the row template (before, between) around each account."""
    before, between = template
    operation: Operation = "replace_drop" if index == 0 else "sum"
    empty = _encode(month, operation, [])
    # `a:m\na:m` -> `a<between>m"},<before>a<between>m`: the separator first (`between` and `before` hold colons)
    texts_bytes = "\n".join(texts).encode()
    rows = texts_bytes.replace(SEPARATOR.encode(), between.encode()).replace(b"\n", f'"}},{before}'.encode())
    body = b"".join((empty[:-2], before.encode(), rows, b'"}', empty[-2:]))
    return PreparedBody(DropBody(month, index, operation, len(texts), body), CreditColumns.total_of(texts))


def _row_template(start: str, description: str, service: str) -> tuple[str, str]:
    """The row's text before the account id, and between the account id and the cost (keys in cbf_rows' order)."""

    def text(value: str) -> str:
        return json.dumps(value, ensure_ascii=False)

    return (
        f'{{"lineitem/type":"Credit","lineitem/description":{text(description)},'
        f'"time/usage_start":{text(start)},"resource/account":"',
        f'","resource/service":{text(service)},"cost/cost":"',
    )


def _prepared(month: str, index: int, rows: list[bytes], total: Decimal) -> PreparedBody:
    operation: Operation = "replace_drop" if index == 0 else "sum"
    empty = _encode(month, operation, [])  # b'{"month":...,"data":[]}': the rows go between its brackets
    body = b"".join((empty[:-2], b",".join(rows), empty[-2:]))
    return PreparedBody(DropBody(month, index, operation, len(rows), body), total)
