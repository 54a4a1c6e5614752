"""Month batches -> CloudZero Common Bill Format rows and billing-drop bodies under the size limit.

A month goes as ONE `replace_drop` (it replaces the whole month). Only a body over the limit is
split: the first chunk `replace_drop`, the rest `sum`, to be sent strictly in order.
"""

import hashlib
import json
from dataclasses import dataclass
from typing import Literal

from credits_pipeline.domain.messages import MonthBatch
from credits_pipeline.domain.money import format_money
from credits_pipeline.domain.months import month_start

# CloudZero's limit is "5 MB" without saying which; stay under the smaller reading.
MAX_BODY_BYTES = 5_000_000

Operation = Literal["replace_drop", "sum"]


@dataclass(frozen=True)
class DropBody:
    """One request body, ready to send: its bytes are what the idempotency key hashes."""

    month: str
    chunk: int
    operation: Operation
    rows: int
    body: bytes

    @property
    def sha256(self) -> str:
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
