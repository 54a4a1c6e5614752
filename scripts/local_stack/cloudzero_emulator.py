"""A local CloudZero AnyCost Stream API: a real HTTP server for tests and the local end-to-end run.

It follows /work/shared/reference/cloudzero-anycost-api.md: the four AnyCost endpoints, the
`Authorization: <api key>` header (no `Bearer `), the 5 MB body limit, the billing-drop validation
rules, the `replace_drop` / `replace_hourly` / `sum` semantics per connection and month, idempotency
keys that replay the first answer (errors too) without comparing bodies, and `cloudzero-test-key`
sandbox namespaces. On top of that it detects concurrent requests to one connection (which CloudZero
does not support), injects faults (429 with `Retry-After`, 5xx, slow answers, dropped connections)
and records every request, so tests can assert how a client behaves.

Order of the checks for an API request: route -> in-flight tracking -> auth (403, never cached) ->
idempotency replay -> injected fault -> body limit (413) -> validation (400) -> apply (200). Every
answer from the replay step on is cached under the idempotency key, if one was sent.

Where the reference is silent, the emulator decides:
- POST `row_count` is the rows of that drop; the listing's `row_count` is the month's current rows.
  Months are answered as `YYYY-MM-01T00:00:00Z`. The drop's month is the calendar month as written in
  `month` (any datetime in it); rows' `time/usage_start` (naive = UTC) must fall in it in UTC.
- Every numeric column (`cost/*`, `usage/amount`) must be a plain decimal string, minus sign allowed.
  Unknown top-level keys are ignored. Rows are stored and returned exactly as sent (not hour-snapped).
- POST validate answers 200 with `is_valid: false` for every validation problem, malformed JSON included.
- Idempotency scope is (test key, method, path, key); GETs with a key are cached too. A request whose
  key is still being answered waits for that answer and replays it. Requests the emulator ends without
  answering (injected disconnect before apply) cache nothing. 403 is never cached.
- Concurrency is tracked per connection id across namespaces; the validate path has no connection.
  A request leaves "in flight" (and enters `requests`) just before its answer is written.
- Bodies may be gzip/deflate (`Content-Encoding`); the limit applies to the uncompressed bytes.
- Sandbox (test key) data is never purged (CloudZero purges it after one hour); admin paths are not
  logged in `requests`.

Python:  ``with CloudZeroEmulator(api_key="k") as emulator: ... emulator.base_url ...``
CLI:     ``python scripts/local_stack/cloudzero_emulator.py --port 8765 --api-key KEY``
Admin (no auth): ``POST/DELETE /_emulator/faults``, ``POST /_emulator/reset``, ``GET /_emulator/state``.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import ipaddress
import json
import re
import signal
import socket
import sys
import threading
import time
import uuid
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType, TracebackType
from typing import Any, Final, Literal
from urllib.parse import unquote, urlsplit

DEFAULT_API_KEY: Final = "local-emulator-key"
DEFAULT_MAX_BODY_BYTES: Final = 5_000_000

OPERATIONS: Final = frozenset({"replace_drop", "replace_hourly", "sum"})
LINE_ITEM_TYPES: Final = frozenset(
    {"Usage", "Tax", "Support", "Purchase", "CommittedUsePurchase", "Discount", "Credit", "Fee", "Adjustment"}
)
CBF_COLUMNS: Final = frozenset(
    {
        "lineitem/id",
        "lineitem/type",
        "lineitem/description",
        "time/usage_start",
        "time/usage_end",
        "resource/id",
        "resource/service",
        "resource/account",
        "resource/region",
        "resource/usage_family",
        "action/operation",
        "action/usage_type",
        "action/region",
        "action/account",
        "usage/amount",
        "usage/units",
        "cost/cost",
        "cost/discounted_cost",
        "cost/amortized_cost",
        "cost/discounted_amortized_cost",
        "cost/on_demand_cost",
        "bill/invoice_id",
        "k8s/cluster",
        "k8s/namespace",
        "k8s/deployment",
        "k8s/labels",
    }
)
TAG_PREFIX: Final = "resource/tag:"
REQUIRED_COLUMNS: Final = ("time/usage_start", "cost/cost")
NUMERIC_COLUMNS: Final = frozenset(
    {
        "usage/amount",
        "cost/cost",
        "cost/discounted_cost",
        "cost/amortized_cost",
        "cost/discounted_amortized_cost",
        "cost/on_demand_cost",
    }
)
MAX_REPORTED_ERRORS: Final = 50

_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?$")
_YEAR_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_PLAIN_DECIMAL = re.compile(r"^-?\d+(\.\d+)?$")
_CONNECTION_PATH = re.compile(r"^/v2/connections/billing/anycost/([^/]+)/billing_drops(?:/([^/]+))?/?$")
_VALIDATE_PATH = "/v2/connections/billing/anycost/validate_billing_drop"
_ADMIN_PREFIX = "/_emulator/"

IDEMPOTENCY_HEADER: Final = "cloudzero-idempotency-key"
TEST_KEY_HEADER: Final = "cloudzero-test-key"

FaultPath = Literal["billing_drops", "validate", "any"]
_FAULT_PATHS: Final = ("billing_drops", "validate", "any")
Row = dict[str, str]


# ---------------------------------------------------------------------------------------------------------
# Records exposed to tests
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AcceptedDrop:
    """One billing drop the emulator accepted (POST billing_drops answered 200), in arrival order."""

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
    """One API request as the emulator saw it. `status` is None when the connection was dropped."""

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
class Fault:
    """An injected fault for the next `count` matching requests (see CloudZeroEmulator.inject_fault)."""

    status: int | None = None
    retry_after: int | None = None
    delay_seconds: float = 0.0
    disconnect: bool = False
    apply_before_disconnect: bool = False
    count: int = 1
    path: FaultPath = "billing_drops"
    message: str | None = None

    def describe(self) -> str:
        parts = []
        if self.delay_seconds:
            parts.append(f"delay {self.delay_seconds}s")
        if self.status is not None:
            parts.append(f"status {self.status}")
        if self.disconnect:
            parts.append("disconnect after apply" if self.apply_before_disconnect else "disconnect")
        return ", ".join(parts)


# ---------------------------------------------------------------------------------------------------------
# Validation (pure functions)
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParsedDrop:
    month: str  # "2026-01"
    operation: str
    rows: list[Row]


def month_key(value: str) -> str | None:
    """`2026-01` or an ISO 8601 datetime (`2026-01-01T00:00:00Z`) -> "2026-01"; None when neither.

    The month is the calendar month as written: an offset does not move it to another month.
    """
    match = _YEAR_MONTH.match(value)
    if match:
        year, month = int(match.group(1)), int(match.group(2))
        return f"{year:04d}-{month:02d}" if 1 <= month <= 12 else None
    if not _ISO_DATETIME.match(value):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return f"{parsed.year:04d}-{parsed.month:02d}"


def month_iso(month: str) -> str:
    """Month "2026-01" -> "2026-01-01T00:00:00Z", the form the emulator answers with."""
    return f"{month}-01T00:00:00Z"


def usage_hour(value: str) -> datetime | None:
    """`time/usage_start` as a UTC datetime snapped to its hour (naive values are UTC); None if invalid."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    parsed = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    return parsed.replace(minute=0, second=0, microsecond=0)


def _row_errors(index: int, row: object, month: str | None) -> list[str]:
    if not isinstance(row, dict):
        return [f"row {index}: must be a JSON object"]
    errors: list[str] = []
    for column, value in row.items():
        if column.startswith(TAG_PREFIX):
            if column == TAG_PREFIX:
                errors.append(f"row {index}: tag column {column!r} has no tag key")
        elif column not in CBF_COLUMNS:
            errors.append(f"row {index}: unknown column {column!r}")
        if not isinstance(value, str):
            errors.append(f"row {index}: value of {column!r} must be a string, got {type(value).__name__}")
        elif column in NUMERIC_COLUMNS and not _PLAIN_DECIMAL.match(value):
            errors.append(f"row {index}: {column} {value!r} is not a plain decimal string")
    for column in REQUIRED_COLUMNS:
        if column not in row:
            errors.append(f"row {index}: required column {column!r} is missing")
    line_type = row.get("lineitem/type")
    if isinstance(line_type, str) and line_type not in LINE_ITEM_TYPES:
        errors.append(f"row {index}: lineitem/type {line_type!r} is not one of {sorted(LINE_ITEM_TYPES)}")
    if any(column.startswith(TAG_PREFIX) for column in row) and "resource/id" not in row:
        errors.append(f"row {index}: resource/tag columns need resource/id")
    start = row.get("time/usage_start")
    if isinstance(start, str):
        hour = usage_hour(start)
        if hour is None:
            errors.append(f"row {index}: time/usage_start {start!r} is not an ISO 8601 datetime")
        elif month is not None and f"{hour.year:04d}-{hour.month:02d}" != month:
            errors.append(f"row {index}: time/usage_start {start!r} is outside the drop's month {month}")
    return errors


def validate_drop(payload: object) -> tuple[ParsedDrop | None, list[str]]:
    """Check a decoded billing drop against the reference's rules: (drop, []) or (None, errors)."""
    if not isinstance(payload, dict):
        return None, ["body must be a JSON object"]
    errors: list[str] = []
    month: str | None = None
    raw_month = payload.get("month")
    if not isinstance(raw_month, str):
        errors.append("month is required: an ISO 8601 datetime such as 2026-01-01T00:00:00Z")
    elif not _ISO_DATETIME.match(raw_month) or (month := month_key(raw_month)) is None:
        errors.append(f"month {raw_month!r} is not an ISO 8601 datetime (YYYY-MM-DDTHH:MM:SS[.f][Z|+hh:mm])")
    operation = payload.get("operation", "replace_drop")
    if operation not in OPERATIONS:
        errors.append(f"operation {operation!r} is not one of {sorted(OPERATIONS)}")
    data = payload.get("data")
    if not isinstance(data, list):
        errors.append("data is required and must be a list of CBF rows")
        data = []
    for index, row in enumerate(data):
        errors.extend(_row_errors(index, row, month))
    if errors:
        return None, errors
    assert month is not None  # no errors means the month parsed
    return ParsedDrop(month=month, operation=str(operation), rows=[dict(row) for row in data]), []


def _error_message(errors: list[str]) -> str:
    shown = errors[:10]
    more = f"; and {len(errors) - len(shown)} more" if len(errors) > len(shown) else ""
    return f"invalid billing drop ({len(errors)} errors): " + "; ".join(shown) + more


# ---------------------------------------------------------------------------------------------------------
# The emulator
# ---------------------------------------------------------------------------------------------------------


@dataclass
class _Answer:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class _MonthState:
    rows: list[Row]
    drop_id: str


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    emulator: CloudZeroEmulator

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, ConnectionError | TimeoutError):
            return  # clients that give up (timeouts, dropped connections) are part of the tests
        super().handle_error(request, client_address)


class _Server6(_Server):
    address_family = socket.AF_INET6


class CloudZeroEmulator:
    """The CloudZero AnyCost Stream API on loopback, with fault injection and request recording.

    Data lives per namespace (the `cloudzero-test-key`, "" for live), connection and month. Sandbox
    data is never purged (CloudZero purges it after an hour); `reset()` forgets everything.
    """

    def __init__(
        self,
        api_key: str = DEFAULT_API_KEY,
        host: str = "127.0.0.1",
        port: int = 0,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    ) -> None:
        address = ipaddress.ip_address("127.0.0.1" if host == "localhost" else host)
        if not address.is_loopback:
            raise ValueError(f"the emulator binds only to loopback, not {host!r}")
        self.api_key = api_key
        self.host = str(address)
        self.port = port
        self.max_body_bytes = max_body_bytes
        self.requests: list[RequestRecord] = []
        self.concurrency_violations: list[ConcurrencyViolation] = []
        self._lock = threading.RLock()
        self._idempotency_done = threading.Condition(self._lock)
        self._months: dict[tuple[str, str, str], _MonthState] = {}
        self._drops: list[AcceptedDrop] = []
        self._answers: dict[tuple[str, str, str, str], _Answer] = {}
        self._pending_keys: set[tuple[str, str, str, str]] = set()
        self._in_flight: dict[str, list[str]] = {}
        self._faults: list[Fault] = []
        self._open_sockets: set[socket.socket] = set()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the emulator is not started")
        host, port = self._server.server_address[:2]
        host_text = host.decode() if isinstance(host, bytes) else host
        return f"http://[{host_text}]:{port}" if ":" in host_text else f"http://{host_text}:{port}"

    def start(self) -> CloudZeroEmulator:
        """Serve in a daemon thread; returns self. `base_url` is known once this returns."""
        if self._server is not None:
            return self
        server_class = _Server6 if ipaddress.ip_address(self.host).version == 6 else _Server
        server = server_class((self.host, self.port), _Handler)
        server.emulator = self
        self._stopping.clear()
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name="cloudzero-emulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, close open client connections and cut injected delays short."""
        server, thread = self._server, self._thread
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.server_close()
        with self._lock:
            sockets = list(self._open_sockets)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        if thread is not None:
            thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> CloudZeroEmulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # -- what tests read -------------------------------------------------------------------------------

    def month_rows(self, connection_id: str, month: str, test_key: str = "") -> list[Row]:
        """The month's current rows (copies); month as "2026-01" or an ISO datetime; [] when none."""
        key = month_key(month)
        if key is None:
            raise ValueError(f"not a month: {month!r}")
        with self._lock:
            state = self._months.get((test_key, connection_id, key))
            return [dict(row) for row in state.rows] if state else []

    def drops(self, connection_id: str | None = None, *, test_key: str | None = None) -> list[AcceptedDrop]:
        """Every accepted drop in order, optionally of one connection and/or one namespace ("" = live)."""
        with self._lock:
            return [
                drop
                for drop in self._drops
                if (connection_id is None or drop.connection_id == connection_id)
                and (test_key is None or drop.test_key == test_key)
            ]

    # -- what tests drive ------------------------------------------------------------------------------

    def inject_fault(
        self,
        status: int | None = None,
        *,
        retry_after: int | None = None,
        delay_seconds: float = 0.0,
        disconnect: bool = False,
        apply_before_disconnect: bool = False,
        count: int = 1,
        path: FaultPath = "billing_drops",
        message: str | None = None,
    ) -> Fault:
        """Shape the answers to the next `count` matching requests; faults queue up in order.

        `delay_seconds` sleeps first, then `status` answers with that error (429 and 5xx: body
        {"message": ...}; `Retry-After: <retry_after>` only when retry_after is given), or `disconnect`
        closes the socket without answering (after applying the drop and caching its answer when
        `apply_before_disconnect`); with neither, the request is then served normally.
        `path`: "billing_drops" (POST billing_drops, the default), "validate", or "any" API request.
        A request answered from the idempotency cache consumes no fault.
        """
        fault = Fault(
            status=status,
            retry_after=retry_after,
            delay_seconds=delay_seconds,
            disconnect=disconnect,
            apply_before_disconnect=apply_before_disconnect,
            count=count,
            path=path,
            message=message,
        )
        if status is None and not disconnect and delay_seconds <= 0:
            raise ValueError("a fault needs a status, a delay or a disconnect")
        if status is not None and not 400 <= status <= 599:
            raise ValueError(f"fault status must be 4xx or 5xx, not {status}")
        if status is not None and disconnect:
            raise ValueError("a fault either answers a status or disconnects, not both")
        if count < 1 or delay_seconds < 0 or (retry_after is not None and retry_after < 0):
            raise ValueError("count must be >= 1, delay_seconds and retry_after >= 0")
        if path not in _FAULT_PATHS:
            raise ValueError(f"fault path must be one of {_FAULT_PATHS}, not {path!r}")
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def faults(self) -> list[Fault]:
        """Faults still pending (with their remaining counts)."""
        with self._lock:
            return [dataclasses.replace(fault) for fault in self._faults]

    def reset(self) -> None:
        """Forget everything: data, drops, idempotency answers, faults, request log, violations."""
        with self._lock:
            self._months.clear()
            self._drops.clear()
            self._answers.clear()
            self._faults.clear()
            self.requests.clear()
            self.concurrency_violations.clear()

    def state(self) -> dict[str, Any]:
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
                        "rows": state.rows,
                    }
                    for (test_key, connection_id, month), state in sorted(self._months.items())
                ],
                "requests": [dataclasses.asdict(record) for record in self.requests],
                "concurrency_violations": [dataclasses.asdict(v) for v in self.concurrency_violations],
                "faults": [dataclasses.asdict(fault) for fault in self._faults],
            }

    # -- request processing (called by the handler) ----------------------------------------------------

    def _enter_connection(self, connection_id: str, label: str) -> None:
        with self._lock:
            in_flight = self._in_flight.setdefault(connection_id, [])
            if in_flight:
                self.concurrency_violations.append(
                    ConcurrencyViolation(connection_id=connection_id, at=time.time(), paths=[*in_flight, label])
                )
            in_flight.append(label)

    def _leave_connection(self, connection_id: str, label: str) -> None:
        with self._lock:
            in_flight = self._in_flight.get(connection_id, [])
            if label in in_flight:
                in_flight.remove(label)
            if not in_flight:
                self._in_flight.pop(connection_id, None)

    def _claim_key(self, scope: tuple[str, str, str, str]) -> _Answer | None:
        """The cached answer for an idempotency scope, or None after reserving it for this request.

        A request whose key is still being answered by an earlier request waits for that answer.
        """
        with self._lock:
            while True:
                answer = self._answers.get(scope)
                if answer is not None:
                    return answer
                if scope not in self._pending_keys:
                    self._pending_keys.add(scope)
                    return None
                self._idempotency_done.wait(timeout=0.5)

    def _settle_key(self, scope: tuple[str, str, str, str], answer: _Answer | None) -> None:
        with self._lock:
            self._pending_keys.discard(scope)
            if answer is not None:
                self._answers[scope] = answer
            self._idempotency_done.notify_all()

    def _take_fault(self, kind: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.path in ("any", kind):
                    fault.count -= 1
                    if fault.count <= 0:
                        self._faults.remove(fault)
                    return dataclasses.replace(fault)
        return None

    def _apply(self, connection_id: str, test_key: str, drop: ParsedDrop, idempotency_key: str | None) -> AcceptedDrop:
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
            existing = current.rows if current else []
            new_rows = [dict(row) for row in drop.rows]
            if drop.operation == "replace_drop":
                rows = new_rows
            elif drop.operation == "replace_hourly":
                hours = {usage_hour(row["time/usage_start"]) for row in new_rows}
                kept = [row for row in existing if usage_hour(row["time/usage_start"]) not in hours]
                rows = kept + new_rows
            else:  # sum
                rows = existing + new_rows
            self._months[key] = _MonthState(rows=rows, drop_id=accepted.drop_id)
            self._drops.append(accepted)
        return accepted

    def _listing(self, connection_id: str, test_key: str) -> list[dict[str, Any]]:
        with self._lock:
            return [
                {"drop_id": state.drop_id, "month": month_iso(month), "row_count": len(state.rows)}
                for (space, connection, month), state in sorted(self._months.items())
                if space == test_key and connection == connection_id
            ]


def _error(status: int, message: str, error_type: str | None = None) -> _Answer:
    """An error answer shaped as the reference says: 400/404 nest it under "error", others do not."""
    if status in (400, 404):
        return _Answer(status, {"error": {"message": message, "type": error_type or _error_type(status)}})
    return _Answer(status, {"message": message})


def _error_type(status: int) -> str:
    return {400: "ValidationError", 404: "NotFound"}.get(status, HTTPStatus(status).phrase.replace(" ", ""))


def _fault_answer(fault: Fault) -> _Answer:
    assert fault.status is not None
    try:
        phrase = HTTPStatus(fault.status).phrase
    except ValueError:
        phrase = "Error"
    answer = _error(fault.status, fault.message or phrase)
    if fault.retry_after is not None:
        answer.headers["Retry-After"] = str(int(fault.retry_after))
    return answer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "CloudZeroEmulator/1.0"
    timeout = 60  # idle keep-alive connections close after this long
    server: _Server

    # -- plumbing -------------------------------------------------------------------------------------

    def setup(self) -> None:
        super().setup()
        with self.server.emulator._lock:
            self.server.emulator._open_sockets.add(self.connection)

    def finish(self) -> None:
        with self.server.emulator._lock:
            self.server.emulator._open_sockets.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return self._read_chunked()
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        if length <= 0 and self.headers.get("Content-Length") not in (None, "0"):
            self.close_connection = True  # unreadable framing: answer, then close
        chunks: list[bytes] = []
        while length > 0:
            chunk = self.rfile.read(min(length, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            length -= len(chunk)
        return b"".join(chunks)

    def _read_chunked(self) -> bytes:
        chunks: list[bytes] = []
        while True:
            size_line = self.rfile.readline(1024).split(b";")[0].strip()
            try:
                size = int(size_line, 16)
            except ValueError:
                self.close_connection = True
                break
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                break
            chunks.append(self.rfile.read(size))
            self.rfile.readline(1024)
        return b"".join(chunks)

    def _send(self, answer: _Answer) -> None:
        payload = json.dumps(answer.body).encode()
        self.send_response(answer.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def _drop_connection(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    # -- routing --------------------------------------------------------------------------------------

    def _dispatch(self) -> None:
        path = urlsplit(self.path).path
        if path.startswith(_ADMIN_PREFIX):
            body = self._read_body()
            self._send(self._admin(path, body))
            return
        emulator = self.server.emulator
        started = time.time()
        match = _CONNECTION_PATH.match(path)
        connection_id = unquote(match.group(1)) if match else None
        label = f"{self.command} {path}"
        if connection_id is not None:
            emulator._enter_connection(connection_id, label)
        record = RequestRecord(
            method=self.command,
            path=path,
            connection_id=connection_id,
            status=None,
            idempotency_key=self.headers.get(IDEMPOTENCY_HEADER),
            test_key=self.headers.get(TEST_KEY_HEADER) or "",
            operation=None,
            row_count=None,
            started=started,
            ended=started,
        )
        answer: _Answer | None = None
        try:
            answer = self._api(path, match, record)
        finally:
            # Settled before the answer goes out: a client that sends its next request the moment it
            # reads this answer must find the connection idle and this request in the log.
            record.status = answer.status if answer is not None else None
            record.ended = time.time()
            if connection_id is not None:
                emulator._leave_connection(connection_id, label)
            with emulator._lock:
                emulator.requests.append(record)
        if answer is None:
            self._drop_connection()
        else:
            self._send(answer)

    def _api(self, path: str, match: re.Match[str] | None, record: RequestRecord) -> _Answer | None:
        """The answer to an API request, or None to close the socket without answering."""
        emulator = self.server.emulator
        body = self._read_body()
        if self.headers.get("Authorization") != emulator.api_key:
            return _Answer(403, {"message": "Forbidden: the Authorization header must be the API key"})
        if match and self.command == "POST" and match.group(2) is None:
            kind = "billing_drops"
        elif match and self.command == "GET":
            kind = "read"
        elif path.rstrip("/") == _VALIDATE_PATH and self.command == "POST":
            kind = "validate"
        else:
            return _error(404, f"no route for {self.command} {path}")

        scope = None
        if record.idempotency_key is not None:
            scope = (record.test_key, self.command, path, record.idempotency_key)
            cached = emulator._claim_key(scope)
            if cached is not None:
                record.replayed = True
                return cached
        answer: _Answer | None = None
        hang_up = False
        try:
            answer, hang_up = self._answer(kind, match, body, record)
        finally:
            if scope is not None:  # no answer (dropped, stopped): nothing cached, the key is free again
                emulator._settle_key(scope, answer)
        return None if hang_up else answer

    def _answer(
        self, kind: str, match: re.Match[str] | None, body: bytes, record: RequestRecord
    ) -> tuple[_Answer | None, bool]:
        """(answer to cache and send or None, whether to close the socket instead of sending it)."""
        emulator = self.server.emulator
        fault = emulator._take_fault(kind)
        if fault is not None:
            record.fault = fault.describe()
            if fault.delay_seconds > 0 and emulator._stopping.wait(fault.delay_seconds):
                return None, True
            if fault.status is not None:
                return _fault_answer(fault), False
            if fault.disconnect and not fault.apply_before_disconnect:
                return None, True
        return self._serve(kind, match, body, record), fault is not None and fault.disconnect

    def _serve(self, kind: str, match: re.Match[str] | None, body: bytes, record: RequestRecord) -> _Answer:
        emulator = self.server.emulator
        if kind == "read":
            assert match is not None
            return self._read(unquote(match.group(1)), match.group(2), record.test_key)

        decoded = _decode(body, self.headers.get("Content-Encoding"), emulator.max_body_bytes)
        if decoded is None:
            return _Answer(413, {"message": f"Request body exceeds {emulator.max_body_bytes} bytes"})
        try:
            payload: object = json.loads(decoded)
        except ValueError:
            payload = None
            drop, errors = None, ["body is not valid JSON"]
        else:
            drop, errors = validate_drop(payload)
        if isinstance(payload, dict):
            operation = payload.get("operation", "replace_drop")
            record.operation = operation if isinstance(operation, str) else None
            data = payload.get("data")
            record.row_count = len(data) if isinstance(data, list) else None

        if kind == "validate":
            return _Answer(200, {"connection": {"is_valid": not errors, "errors": errors}})
        if drop is None:
            return _error(400, _error_message(errors))
        assert match is not None
        accepted = emulator._apply(unquote(match.group(1)), record.test_key, drop, record.idempotency_key)
        return _Answer(
            200,
            {
                "connection": {
                    "drop_id": accepted.drop_id,
                    "month": month_iso(accepted.month),
                    "row_count": len(accepted.rows),
                }
            },
        )

    def _read(self, connection_id: str, month: str | None, test_key: str) -> _Answer:
        emulator = self.server.emulator
        if month is None:
            return _Answer(200, {"billing_drops": emulator._listing(connection_id, test_key)})
        key = month_key(unquote(month))
        if key is None:
            return _error(400, f"month {unquote(month)!r} is neither YYYY-MM nor an ISO 8601 datetime")
        with emulator._lock:
            state = emulator._months.get((test_key, connection_id, key))
            rows = [dict(row) for row in state.rows] if state else None
        if rows is None:
            return _error(404, f"no billing drop for connection {connection_id} in {key}")
        return _Answer(200, {"billing_drop": rows})

    # -- admin ----------------------------------------------------------------------------------------

    def _admin(self, path: str, body: bytes) -> _Answer:
        emulator = self.server.emulator
        route = (self.command, path.rstrip("/"))
        if route == ("GET", "/_emulator/state"):
            return _Answer(200, emulator.state())
        if route == ("POST", "/_emulator/reset"):
            emulator.reset()
            return _Answer(200, {"reset": True})
        if route == ("DELETE", "/_emulator/faults"):
            emulator.clear_faults()
            return _Answer(200, {"faults": []})
        if route == ("GET", "/_emulator/faults"):
            return _Answer(200, {"faults": [dataclasses.asdict(fault) for fault in emulator.faults()]})
        if route == ("POST", "/_emulator/faults"):
            try:
                spec = json.loads(body or b"{}")
                if not isinstance(spec, dict):
                    raise ValueError("the fault must be a JSON object")
                unknown = set(spec) - {f.name for f in dataclasses.fields(Fault)}
                if unknown:
                    raise ValueError(f"unknown fault fields {sorted(unknown)}")
                fault = emulator.inject_fault(**spec)
            except (ValueError, TypeError) as exc:
                return _error(400, str(exc))
            return _Answer(200, {"fault": dataclasses.asdict(fault)})
        return _error(404, f"no admin route for {self.command} {path}")


def _decode(body: bytes, encoding: str | None, limit: int) -> bytes | None:
    """The uncompressed body (gzip/deflate decoded), or None when it exceeds `limit` bytes."""
    if encoding and encoding.strip().lower() in ("gzip", "x-gzip", "deflate"):
        wbits = 16 + zlib.MAX_WBITS if "gzip" in encoding.lower() else zlib.MAX_WBITS
        try:
            inflater = zlib.decompressobj(wbits)
            body = inflater.decompress(body, limit + 1)
        except zlib.error:
            return b"\x00"  # not JSON: reported as such
    return None if len(body) > limit else body


# ---------------------------------------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve the CloudZero AnyCost Stream API emulator on loopback.")
    parser.add_argument("--host", default="127.0.0.1", help="a loopback address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port (default 8765)")
    parser.add_argument("--api-key", default=DEFAULT_API_KEY, help="the exact Authorization header value")
    parser.add_argument("--max-body-bytes", type=int, default=DEFAULT_MAX_BODY_BYTES)
    args = parser.parse_args(argv)

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        del signum, frame
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    with CloudZeroEmulator(
        api_key=args.api_key, host=args.host, port=args.port, max_body_bytes=args.max_body_bytes
    ) as emulator:
        print(emulator.base_url, flush=True)
        try:
            while not stop.wait(1.0):
                pass
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())


__all__ = [
    "AcceptedDrop",
    "CloudZeroEmulator",
    "ConcurrencyViolation",
    "Fault",
    "ParsedDrop",
    "RequestRecord",
    "main",
    "month_key",
    "validate_drop",
]
