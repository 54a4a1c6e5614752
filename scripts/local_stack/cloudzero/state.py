"""Everything the emulator remembers, behind one lock: months and drops per namespace and connection, the
idempotency cache, pending faults, requests in flight (the overlap detector) and the request log.
"""

from __future__ import annotations

import copy
import dataclasses
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

from local_stack.cloudzero.faults import Drift, Fault, Target, drifted
from local_stack.cloudzero.rules import (
    Answer,
    IdempotencyScope,
    MonthLimits,
    ParsedDrop,
    Row,
    apply_operation,
    month_over_limit,
)


class MonthFull(Exception):
    """A drop that would make its month more than a stream holds: refused, the month unchanged."""


@dataclass(frozen=True)
class AcceptedDrop:
    """One billing drop the emulator accepted (and applied), in arrival order; `rows` as sent."""

    drop_id: str
    connection_id: str
    month: str  # "2026-01"
    operation: str
    rows: list[Row]
    idempotency_key: str | None
    test_key: str  # "" for the live namespace
    accepted_at: float


@dataclass
class RequestRecord:
    """One API request as the emulator saw it. `status` is what went out, None when the socket was closed."""

    method: str
    path: str
    connection_id: str | None
    status: int | None
    idempotency_key: str | None
    test_key: str
    operation: str | None
    row_count: int | None
    started: float
    ended: float
    replayed: bool = False  # answered from the idempotency cache
    fault: str | None = None  # description of the injected fault that shaped the answer


@dataclass(frozen=True)
class ConcurrencyViolation:
    """A request to a connection that arrived while another request to it was still in flight."""

    connection_id: str
    at: float
    paths: list[str]  # "METHOD path" of the requests already in flight, then of the newcomer


@dataclass
class _Month:
    rows: list[Row]
    drop_id: str
    drops_since_replace: int  # drops applied since (and including) the month's last replace_drop
    body_bytes: int = 0  # uncompressed bytes of those drops


MonthKey = tuple[str, str, str]  # (test key, connection id, "2026-01")


class EmulatorState:
    """Thread-safe state. Sandbox data (a test key) is never purged; `reset()` forgets everything."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._key_settled = threading.Condition(self._lock)
        self._months: dict[MonthKey, _Month] = {}
        self._drops: list[AcceptedDrop] = []
        self._answers: dict[IdempotencyScope, Answer] = {}
        self._pending_keys: set[IdempotencyScope] = set()
        self._in_flight: dict[str, list[str]] = {}
        self._faults: list[Fault] = []
        self._requests: list[RequestRecord] = []
        self._violations: list[ConcurrencyViolation] = []

    # -- months and drops ------------------------------------------------------------------------------

    def apply(
        self,
        connection_id: str,
        test_key: str,
        drop: ParsedDrop,
        idempotency_key: str | None,
        drift: Drift | None = None,
        *,
        body_bytes: int = 0,
        limits: MonthLimits | None = None,
    ) -> AcceptedDrop:
        """Apply a valid drop to its month; `drift` then alters the first row it wrote (see faults.drifted).

        Raises MonthFull, leaving the month as it was, when the month would exceed `limits`."""
        accepted = AcceptedDrop(
            drop_id=str(uuid.uuid4()),
            connection_id=connection_id,
            month=drop.month,
            operation=drop.operation,
            rows=[dict(row) for row in drop.rows],
            idempotency_key=idempotency_key,
            test_key=test_key,
            accepted_at=time.time(),
        )
        key = (test_key, connection_id, drop.month)
        with self._lock:
            current = self._months.get(key)
            rows = apply_operation(current.rows if current else [], drop)
            replaces = drop.operation == "replace_drop" or current is None
            size = body_bytes if replaces or current is None else current.body_bytes + body_bytes
            over = month_over_limit(len(rows), size, limits) if limits else None
            if over:
                raise MonthFull(over)
            if drift is not None:
                rows = drifted(rows, len(rows) - len(drop.rows), drift)
            since = 1 if replaces or current is None else current.drops_since_replace + 1
            self._months[key] = _Month(rows, accepted.drop_id, since, size)
            self._drops.append(accepted)
        return accepted

    def chunk_index(self, test_key: str, connection_id: str, month: str, operation: str | None) -> int:
        """Which chunk of its month a drop would be: 0 for replace_drop, else the drops since the last one."""
        if operation == "replace_drop":
            return 0
        with self._lock:
            current = self._months.get((test_key, connection_id, month))
            return current.drops_since_replace if current else 0

    def month_rows(self, connection_id: str, month: str, test_key: str = "") -> list[Row] | None:
        """Copies of the month's current rows, None when no drop ever landed in it."""
        with self._lock:
            current = self._months.get((test_key, connection_id, month))
            return [dict(row) for row in current.rows] if current else None

    def months(self, connection_id: str, test_key: str) -> list[tuple[str, str, int]]:
        """(month, latest drop id, current row count) for each month of a connection, in month order."""
        with self._lock:
            return [
                (month, state.drop_id, len(state.rows))
                for (space, connection, month), state in sorted(self._months.items())
                if space == test_key and connection == connection_id
            ]

    def drops(self, connection_id: str | None = None, *, test_key: str | None = None) -> list[AcceptedDrop]:
        with self._lock:
            return [
                drop
                for drop in self._drops
                if (connection_id is None or drop.connection_id == connection_id)
                and (test_key is None or drop.test_key == test_key)
            ]

    # -- idempotency cache -----------------------------------------------------------------------------

    def claim_key(self, scope: IdempotencyScope) -> Answer | None:
        """The cached answer for a scope, or None after reserving the scope for this request.

        A request whose key is still being answered by an earlier request waits for that answer. Both are
        in flight at once: on a connection, `enter_connection` has already recorded that as a violation.
        """
        with self._lock:
            while True:
                answer = self._answers.get(scope)
                if answer is not None:
                    return answer
                if scope not in self._pending_keys:
                    self._pending_keys.add(scope)
                    return None
                self._key_settled.wait(timeout=0.5)

    def settle_key(self, scope: IdempotencyScope, answer: Answer | None) -> None:
        """Cache the answer for a claimed scope; None (nothing answered) frees the key instead."""
        with self._lock:
            self._pending_keys.discard(scope)
            if answer is not None:
                self._answers[scope] = answer
            self._key_settled.notify_all()

    # -- faults ----------------------------------------------------------------------------------------

    def add_fault(self, fault: Fault) -> Fault:
        with self._lock:
            self._faults.append(fault)
        return copy.copy(fault)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def faults(self) -> list[Fault]:
        """Faults still pending, with their remaining `skip` and `count`."""
        with self._lock:
            return [copy.copy(fault) for fault in self._faults]

    def take_fault(self, target: Target) -> Fault | None:
        """The first pending fault past its `skip` that matches; every matching fault counts the request."""
        chosen: Fault | None = None
        with self._lock:
            for fault in list(self._faults):
                if not fault.matches(target):
                    continue
                if fault.skip > 0:
                    fault.skip -= 1
                elif chosen is None:
                    fault.count -= 1
                    if fault.count <= 0:
                        self._faults.remove(fault)
                    chosen = copy.copy(fault)
        return chosen

    # -- requests in flight and the request log --------------------------------------------------------

    def enter_connection(self, connection_id: str, label: str, *, continuing: bool = False) -> None:
        """Mark a request in flight on a connection; one already in flight there is a violation, unless this is
        the work of that request carried on after its answer (`continuing`)."""
        with self._lock:
            in_flight = self._in_flight.setdefault(connection_id, [])
            if in_flight and not continuing:
                self._violations.append(
                    ConcurrencyViolation(connection_id=connection_id, at=time.time(), paths=[*in_flight, label])
                )
            in_flight.append(label)

    def leave_connection(self, connection_id: str, label: str) -> None:
        with self._lock:
            in_flight = self._in_flight.get(connection_id, [])
            if label in in_flight:
                in_flight.remove(label)
            if not in_flight:
                self._in_flight.pop(connection_id, None)

    def record(self, request: RequestRecord) -> None:
        with self._lock:
            self._requests.append(request)

    def requests(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._requests)

    def concurrency_violations(self) -> list[ConcurrencyViolation]:
        with self._lock:
            return list(self._violations)

    # -- whole state -----------------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget everything: data, drops, idempotency answers, faults, request log, violations."""
        with self._lock:
            self._months.clear()
            self._drops.clear()
            self._answers.clear()
            self._faults.clear()
            self._requests.clear()
            self._violations.clear()

    def snapshot(self) -> dict[str, Any]:
        """Everything the emulator knows, JSON-ready (what GET /_emulator/state answers)."""
        with self._lock:
            return {
                "drops": [dataclasses.asdict(drop) for drop in self._drops],
                "months": [
                    {
                        "test_key": test_key,
                        "connection_id": connection_id,
                        "month": month,
                        "drop_id": state.drop_id,
                        "row_count": len(state.rows),
                        "rows": [dict(row) for row in state.rows],
                    }
                    for (test_key, connection_id, month), state in sorted(self._months.items())
                ],
                "requests": [dataclasses.asdict(record) for record in self._requests],
                "concurrency_violations": [dataclasses.asdict(v) for v in self._violations],
                "faults": [dataclasses.asdict(fault) for fault in self._faults],
            }
