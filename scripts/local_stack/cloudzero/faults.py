"""Injected faults: what one looks like, which requests it targets, and what it does to an answer or a month.

A fault shapes the next `count` requests it matches, after letting `skip` matching requests through.
Matching: the request kind (`path`), and optionally the drop's `month` and its `chunk` within the month.
What it does, in this order: sleep `delay_seconds`; then answer `status` or close the socket
(`disconnect`) without applying anything, unless `ghost_write`, which applies the drop first (the
client cannot know it landed), or `apply_after_seconds`, which applies it that long after answering the
5xx (a gateway that gave up on a backend still at work: the connection counts that work as in flight);
`drift` alters the month just written so a read-back sees a mismatch.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Final, Literal, get_args

from local_stack.cloudzero.rules import Answer, Row, error, month_key, status_phrase

RequestKind = Literal["billing_drops", "validate", "read", "health"]
FaultPath = Literal["billing_drops", "validate", "any"]
Drift = Literal["cost", "drop_row"]
FAULT_PATHS: Final = get_args(FaultPath)
DRIFTS: Final = get_args(Drift)
# What `drift="cost"` adds to the row's cost/cost: a cent, the smallest change a read-back must catch.
DRIFT_COST_DELTA: Final = Decimal("0.01")


@dataclass(frozen=True)
class Target:
    """What a fault can match a request on."""

    kind: RequestKind
    month: str | None = None  # "2026-01": the drop's month (POST) or the month read (GET)
    chunk: int | None = None  # POST billing_drops only: 0 for replace_drop, else drops since it


@dataclass
class Fault:
    """An injected fault; see CloudZeroEmulator.inject_fault. Invalid combinations raise ValueError."""

    status: int | None = None
    retry_after: int | None = None
    delay_seconds: float = 0.0
    disconnect: bool = False
    ghost_write: bool = False
    apply_after_seconds: float = 0.0
    drift: Drift | None = None
    count: int = 1
    skip: int = 0
    path: FaultPath = "billing_drops"
    month: str | None = None
    chunk: int | None = None
    message: str | None = None

    def __post_init__(self) -> None:
        if self.status is None and not self.disconnect and self.delay_seconds <= 0 and self.drift is None:
            raise ValueError("a fault needs a status, a delay, a disconnect or a drift")
        if self.status is not None and not 400 <= self.status <= 599:
            raise ValueError(f"fault status must be 4xx or 5xx, not {self.status}")
        if self.status is not None and self.disconnect:
            raise ValueError("a fault either answers a status or disconnects, not both")
        if self.count < 1 or self.skip < 0 or self.delay_seconds < 0:
            raise ValueError("count must be >= 1, skip and delay_seconds >= 0")
        if self.retry_after is not None and self.retry_after < 0:
            raise ValueError("retry_after must be >= 0")
        if self.path not in FAULT_PATHS:
            raise ValueError(f"fault path must be one of {FAULT_PATHS}, not {self.path!r}")
        if self.drift is not None and self.drift not in DRIFTS:
            raise ValueError(f"drift must be one of {DRIFTS}, not {self.drift!r}")
        if self.ghost_write:
            if self.status is None and not self.disconnect:
                raise ValueError("a ghost write answers a 5xx status or disconnects after applying the drop")
            if self.status is not None and self.status < 500:
                raise ValueError(f"a ghost write answers a 5xx status, not {self.status}")
        if self.apply_after_seconds < 0:
            raise ValueError("apply_after_seconds must be >= 0")
        if self.apply_after_seconds and (self.status is None or self.status < 500 or self.ghost_write):
            raise ValueError("a late apply answers a 5xx status at once, then applies the drop (not a ghost write)")
        if self.drift is not None and (self.status is not None or self.disconnect) and not self.ghost_write:
            raise ValueError("a drift needs the drop applied: with a status or a disconnect, only as a ghost write")
        if (
            self.ghost_write or self.apply_after_seconds or self.drift is not None or self.chunk is not None
        ) and self.path != "billing_drops":
            raise ValueError(
                "ghost_write, apply_after_seconds, drift and chunk apply to POST billing_drops only "
                "(path 'billing_drops')"
            )
        if self.chunk is not None and self.chunk < 0:
            raise ValueError("chunk must be >= 0")
        if self.month is not None:
            month = month_key(self.month)
            if month is None:
                raise ValueError(f"fault month must be YYYY-MM or an ISO 8601 datetime, not {self.month!r}")
            self.month = month

    def matches(self, target: Target) -> bool:
        return (
            self.path in ("any", target.kind)
            and (self.month is None or self.month == target.month)
            and (self.chunk is None or self.chunk == target.chunk)
        )

    @property
    def applies_before_answering(self) -> bool:
        """Whether the request is served (and a drop applied) before the fault shapes the answer."""
        return self.ghost_write or (self.status is None and not self.disconnect)

    def describe(self) -> str:
        parts = []
        if self.delay_seconds:
            parts.append(f"delay {self.delay_seconds}s")
        if self.ghost_write:
            parts.append("ghost write")
        if self.apply_after_seconds:
            parts.append(f"applied {self.apply_after_seconds}s after the answer")
        if self.drift is not None:
            parts.append(f"drift {self.drift}")
        if self.status is not None:
            parts.append(f"status {self.status}")
        if self.disconnect:
            parts.append("disconnect after apply" if self.ghost_write else "disconnect")
        return ", ".join(parts)


def fault_answer(fault: Fault) -> Answer:
    """The error a fault answers with: 429/5xx as {"message": ...}, `Retry-After` only when given."""
    assert fault.status is not None
    answer = error(fault.status, fault.message or status_phrase(fault.status))
    if fault.retry_after is not None:
        answer.headers["Retry-After"] = str(int(fault.retry_after))
    return answer


def drifted(rows: list[Row], first: int, drift: Drift) -> list[Row]:
    """A month's rows with the row at `first` (the first row the drop wrote) altered or removed.

    "cost" adds DRIFT_COST_DELTA to its cost/cost; "drop_row" removes it. No row there: unchanged.
    """
    if not 0 <= first < len(rows):
        return rows
    if drift == "drop_row":
        return rows[:first] + rows[first + 1 :]
    row = dict(rows[first])
    row["cost/cost"] = format(Decimal(row["cost/cost"]) + DRIFT_COST_DELTA, "f")
    return [*rows[:first], row, *rows[first + 1 :]]
