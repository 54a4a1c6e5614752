"""A local CloudZero AnyCost Stream API: a real HTTP server for tests and the local end-to-end run.

It follows CloudZero's AnyCost Stream API documentation: the four AnyCost endpoints and a connection's
health read (`GET /v2/connections/billing/{connection_id}`), the `Authorization: <api key>` header (no
`Bearer `), the 5 MB body limit, the billing-drop validation rules, the `replace_drop` /
`replace_hourly` / `sum` semantics per connection and month, idempotency keys that replay the first
answer (errors too) without comparing bodies, and `cloudzero-test-key` sandbox namespaces. On top of
that it detects concurrent requests to one connection (which CloudZero does not support), injects faults
(429 with `Retry-After`, 5xx, slow answers, dropped connections, ghost writes, drift after accept) and
records every request, so tests can assert how a client behaves.

Where the documentation is silent, the emulator decides:
- POST `row_count` is the rows of that drop; the listing's `row_count` is the month's current rows.
  Months are answered as `YYYY-MM-01T00:00:00Z`. The drop's month is the calendar month as written in
  `month` (any datetime in it); rows' `time/usage_start` (naive = UTC) must fall in it in UTC.
- Every numeric column (`cost/*`, `usage/amount`) must be a plain decimal string (ASCII digits), minus
  sign allowed. Unknown top-level keys are ignored. A month holds its rows as sent except that
  `time/usage_start` is snapped to its hour, written in UTC as `YYYY-MM-DDTHH:00:00Z`, and
  `time/usage_end` (ignored by CloudZero) is not held; `drops()` keeps the rows exactly as sent.
- Any body that is not a billing drop of the documented shape (wrong JSON types at any level, JSON
  nested too deep to decode) is a 400 with the documented error body, never a 500.
- POST validate answers 200 with `is_valid: false` for every validation problem, malformed JSON included.
- Idempotency scope is (method, path, key), whatever the test key; the key is claimed before auth,
  so a 403 (like a 404 for an unknown path) is cached and replayed too. GETs with a key are cached
  too. A request whose key is still being answered waits for that answer and replays it; on a
  connection it is also recorded as a concurrency violation, like any overlapping request. Requests the
  emulator ends without answering (injected disconnect before apply) cache nothing. A ghost write
  caches the answer of the write that landed, not the error the client saw.
- Concurrency is tracked per connection id across namespaces; the validate path has no connection.
  A request leaves "in flight" (and enters `requests`) just before its answer is written.
- Bodies may be gzip/deflate (`Content-Encoding`); the limit applies to the uncompressed bytes.
- Connections: `connections=` names the account's connection ids; a request on any other connection (POST
  or GET billing_drops, GET a month, the health read) is a 404 with the documented error body, after auth
  and before any fault, and writes nothing. None (the default) makes every id a connection. Connections
  belong to the account, not to a test-key namespace, and `reset()` keeps them.
- The health read answers 200 `{"connection": {"id": <connection id>, "type": "anycost"}}` (the doc gives
  no body); `GET /v2/connections/billing/anycost` is no connection but an unknown path (404). Only
  `path="any"` faults reach it.
- Sandbox (test key) data is never purged (CloudZero purges it after one hour); admin paths are not
  logged in `requests`.

Python:  ``with CloudZeroEmulator(api_key="k") as emulator: ... emulator.base_url ...``
CLI:     ``python scripts/local_stack/cloudzero --port 8765 --api-key KEY [--connection-id ID ...]``
         (or ``-m local_stack.cloudzero``)
Admin (no auth): ``POST/GET/DELETE /_emulator/faults``, ``POST /_emulator/reset``, ``GET /_emulator/state``.
"""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Iterable
from types import TracebackType
from typing import Any

from local_stack.cloudzero.faults import Drift, Fault, FaultPath
from local_stack.cloudzero.rules import DEFAULT_API_KEY, DEFAULT_MAX_BODY_BYTES, MonthLimits, Row, month_key
from local_stack.cloudzero.server import EmulatorApp, LoopbackServer
from local_stack.cloudzero.state import AcceptedDrop, ConcurrencyViolation, EmulatorState, RequestRecord


class CloudZeroEmulator:
    """The CloudZero AnyCost Stream API on loopback, with fault injection and request recording.

    Data lives per namespace (the `cloudzero-test-key`, "" for live), connection and month. `connections`:
    the account's connection ids, the only ones its routes answer for (others are 404); None, any id.
    """

    def __init__(
        self,
        api_key: str = DEFAULT_API_KEY,
        host: str = "127.0.0.1",
        port: int = 0,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        month_limits: MonthLimits | None = None,
        *,
        connections: Iterable[str] | None = None,
    ) -> None:
        if isinstance(connections, str):
            raise TypeError("connections is an iterable of connection ids, not one id")
        address = ipaddress.ip_address("127.0.0.1" if host == "localhost" else host)
        if not address.is_loopback:
            raise ValueError(f"the emulator binds only to loopback, not {host!r}")
        self.api_key = api_key
        self.host = str(address)
        self.port = port
        self.max_body_bytes = max_body_bytes
        self.connections = None if connections is None else frozenset(connections)
        self._state = EmulatorState()
        self._stopping = threading.Event()
        self._server = LoopbackServer(
            EmulatorApp(
                self._state, api_key, max_body_bytes, self._stopping, month_limits, connections=self.connections
            ),
            self.host,
            port,
        )

    # -- lifecycle -------------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return self._server.base_url

    def start(self) -> CloudZeroEmulator:
        """Serve in a daemon thread; returns self. `base_url` is known once this returns."""
        self._stopping.clear()
        self._server.start()
        return self

    def stop(self) -> None:
        """Stop serving, close open client connections and cut injected delays short."""
        self._stopping.set()
        self._server.stop()

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

    @property
    def requests(self) -> list[RequestRecord]:
        """Every API request so far, in the order their answers were settled."""
        return self._state.requests()

    @property
    def concurrency_violations(self) -> list[ConcurrencyViolation]:
        return self._state.concurrency_violations()

    def month_rows(self, connection_id: str, month: str, test_key: str = "") -> list[Row]:
        """The month's current rows (copies), as GET billing_drops/{month} answers them; [] when none."""
        key = month_key(month)
        if key is None:
            raise ValueError(f"not a month: {month!r}")
        return self._state.month_rows(connection_id, key, test_key) or []

    def drops(self, connection_id: str | None = None, *, test_key: str | None = None) -> list[AcceptedDrop]:
        """Every accepted drop in order (rows as sent), optionally of one connection and/or namespace."""
        return self._state.drops(connection_id, test_key=test_key)

    def state(self) -> dict[str, Any]:
        """Everything the emulator knows, JSON-ready (what GET /_emulator/state answers)."""
        return self._state.snapshot()

    # -- what tests drive ------------------------------------------------------------------------------

    def inject_fault(
        self,
        status: int | None = None,
        *,
        retry_after: int | None = None,
        delay_seconds: float = 0.0,
        disconnect: bool = False,
        ghost_write: bool = False,
        apply_after_seconds: float = 0.0,
        apply_before_disconnect: bool = False,
        drift: Drift | None = None,
        count: int = 1,
        skip: int = 0,
        path: FaultPath = "billing_drops",
        month: str | None = None,
        chunk: int | None = None,
        message: str | None = None,
    ) -> Fault:
        """Shape the answers to the next `count` matching requests; faults queue up in order.

        What: `delay_seconds` sleeps first; then `status` answers with that error (429 and 5xx: body
        {"message": ...}; `Retry-After: <retry_after>` only when retry_after is given) or `disconnect`
        closes the socket without answering, in both cases without applying anything, unless
        `ghost_write`: the drop is applied (and its 200 cached under the idempotency key) and then the
        client gets the 5xx `status` or a closed socket. `apply_before_disconnect=True` is the older
        spelling of `ghost_write=True` with `disconnect=True`. `apply_after_seconds` (with a 5xx `status`)
        answers at once and applies the drop that long after (a gateway that gave up on a backend still at
        work), the connection busy until then. `drift` ("cost": the first row the drop
        wrote gets 0.01 added to its cost/cost; "drop_row": that row is removed) alters the month right
        after the drop is accepted, so a read-back of the month no longer matches what was sent; the
        drop's record in `drops()` keeps the rows as sent. With only a delay or a drift, the request is
        otherwise served normally.

        Which: `path` is "billing_drops" (POST billing_drops, the default), "validate", or "any" API
        request; `month` ("2026-01" or an ISO datetime) narrows to requests for that month; `chunk`
        narrows POST billing_drops to the k-th chunk of its month: 0 is a replace_drop, k > 0 a drop
        arriving after k drops were applied since the month's last replace_drop. `skip` lets that many
        matching requests through first (the Nth matching request: skip=N-1). Every pending fault counts
        the requests it matches, whichever fault shapes them; a request answered from the idempotency
        cache matches none.
        """
        fault = Fault(
            status=status,
            retry_after=retry_after,
            delay_seconds=delay_seconds,
            disconnect=disconnect,
            ghost_write=ghost_write or apply_before_disconnect,
            apply_after_seconds=apply_after_seconds,
            drift=drift,
            count=count,
            skip=skip,
            path=path,
            month=month,
            chunk=chunk,
            message=message,
        )
        return self._state.add_fault(fault)

    def clear_faults(self) -> None:
        self._state.clear_faults()

    def faults(self) -> list[Fault]:
        """Faults still pending (with their remaining skip and count)."""
        return self._state.faults()

    def reset(self) -> None:
        """Forget everything: data, drops, idempotency answers, faults, request log, violations."""
        self._state.reset()
