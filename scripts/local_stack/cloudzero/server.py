"""HTTP for the emulator on werkzeug: routing, bodies, answers, hang-ups and the serving thread.

The order of the steps for an API request: in-flight tracking -> idempotency replay -> auth (403) ->
route (404) -> connection (404 when the account has no such connection) -> injected fault -> body limit
(413) -> validation (400) -> apply (200). The key "is checked before anything else" and "the first
response to a key is cached and replayed ..., successes and errors alike": every answer after the replay
step (a 403 too) is cached under the key, if one was sent.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import socket
import sys
import threading
import time
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler
from werkzeug.wrappers import Request, Response

from local_stack.cloudzero import rules
from local_stack.cloudzero.faults import Fault, RequestKind, Target, fault_answer
from local_stack.cloudzero.rules import Answer
from local_stack.cloudzero.state import EmulatorState, MonthFull, RequestRecord

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

CONNECTIONS: Final = "/v2/connections/billing"
ANYCOST: Final = f"{CONNECTIONS}/anycost"
ADMIN_PREFIX: Final = "/_emulator/"
# Alias accepted by the admin API for older callers: a disconnect that applies the drop first.
APPLY_BEFORE_DISCONNECT: Final = "apply_before_disconnect"

_ROUTES: Final = Map(
    [
        Rule(f"{ANYCOST}/validate_billing_drop", endpoint="validate"),
        Rule(f"{ANYCOST}/<connection_id>/billing_drops", endpoint="drops"),
        Rule(f"{ANYCOST}/<connection_id>/billing_drops/<month>", endpoint="month"),
        Rule(f"{CONNECTIONS}/<connection_id>", endpoint="connection"),  # the health read
    ],
    strict_slashes=False,  # a trailing slash is the same path, not a redirect
    merge_slashes=False,
)


class HangUp(ConnectionError):
    """Raised by the app to close the socket without answering (the handler sees a dropped connection)."""


@dataclass(frozen=True)
class _Route:
    endpoint: str
    connection_id: str | None
    month: str | None


@dataclass
class _Outcome:
    """What to cache under the idempotency key (None: nothing) and what to send (None: hang up)."""

    cached: Answer | None
    sent: Answer | None


@dataclass(frozen=True)
class _Body:
    """A request body as far as it could be read: payload None when over the limit or not JSON."""

    over_limit: bool
    payload: object
    json_error: bool
    size: int = 0  # uncompressed bytes


class EmulatorApp:
    """The WSGI application: the AnyCost API and the admin API over one EmulatorState."""

    def __init__(
        self,
        state: EmulatorState,
        api_key: str,
        max_body_bytes: int,
        stopping: threading.Event,
        month_limits: rules.MonthLimits | None = None,
        *,
        connections: frozenset[str] | None = None,
    ) -> None:
        self.state = state
        self.api_key = api_key
        self.max_body_bytes = max_body_bytes
        self.month_limits = month_limits or rules.MonthLimits()
        self.connections = connections  # None: every connection id is one
        self._stopping = stopping

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        raw = request.get_data()  # always read, so the socket holds no leftovers
        answer = self._admin(request, raw) if request.path.startswith(ADMIN_PREFIX) else self._api(request, raw)
        response = Response(json.dumps(answer.body), status=answer.status, content_type="application/json")
        response.headers.extend(answer.headers)
        return response(environ, start_response)

    # -- API -------------------------------------------------------------------------------------------

    def _api(self, request: Request, raw: bytes) -> Answer:
        started = time.time()
        route = _route(request)
        connection_id = route.connection_id if route else None
        label = f"{request.method} {request.path}"
        if connection_id is not None:
            self.state.enter_connection(connection_id, label)
        record = RequestRecord(
            method=request.method,
            path=request.path,
            connection_id=connection_id,
            status=None,
            idempotency_key=request.headers.get(rules.IDEMPOTENCY_HEADER),
            test_key=request.headers.get(rules.TEST_KEY_HEADER) or "",
            operation=None,
            row_count=None,
            started=started,
            ended=started,
        )
        sent: Answer | None = None
        try:
            sent = self._respond(request, raw, route, record)
        finally:
            # Settled before the answer goes out: a client that sends its next request the moment it
            # reads this answer must find the connection idle and this request in the log.
            record.status = sent.status if sent is not None else None
            record.ended = time.time()
            if connection_id is not None:
                self.state.leave_connection(connection_id, label)
            self.state.record(record)
        if sent is None:
            raise HangUp("injected: connection closed without an answer")
        return sent

    def _respond(self, request: Request, raw: bytes, route: _Route | None, record: RequestRecord) -> Answer | None:
        """What to send for an API request, None to close the socket without answering."""
        scope = rules.idempotency_scope(request.method, request.path, record.idempotency_key)
        if scope is not None:
            cached = self.state.claim_key(scope)
            if cached is not None:
                record.replayed = True
                return cached
        outcome = _Outcome(None, None)
        try:
            outcome = self._checked(request, raw, route, record)
        finally:
            if scope is not None:  # nothing cached (dropped, stopped): the key is free again
                self.state.settle_key(scope, outcome.cached)
        return outcome.sent

    def _checked(self, request: Request, raw: bytes, route: _Route | None, record: RequestRecord) -> _Outcome:
        """Auth, then the route and its connection, then the request itself: what to cache under the key and
        what to send."""
        if not rules.is_authorised(request.headers.get("Authorization"), self.api_key):
            forbidden = rules.forbidden()
            return _Outcome(forbidden, forbidden)
        kind = _kind(request.method, route)
        if kind is None or route is None:
            unknown = rules.error(404, f"no route for {request.method} {request.path}")
            return _Outcome(unknown, unknown)
        if route.connection_id is not None and not rules.is_known_connection(route.connection_id, self.connections):
            missing = rules.unknown_connection(route.connection_id)
            return _Outcome(missing, missing)
        return self._answer(kind, request, raw, route, record)

    def _answer(
        self, kind: RequestKind, request: Request, raw: bytes, route: _Route, record: RequestRecord
    ) -> _Outcome:
        has_body = kind in ("billing_drops", "validate")
        body = self._body(raw, request.headers.get("Content-Encoding")) if has_body else None
        payload = body.payload if body else None
        if isinstance(payload, dict):
            record.operation = rules.drop_operation(payload)
            record.row_count = rules.drop_row_count(payload)
        fault = self.state.take_fault(self._target(kind, route, payload, record.test_key))
        if fault is not None:
            record.fault = fault.describe()
            if fault.delay_seconds > 0 and self._stopping.wait(fault.delay_seconds):
                return _Outcome(None, None)
            if fault.apply_after_seconds and route.connection_id is not None:
                self._apply_later(fault, kind, route, body, record)
                gave_up = fault_answer(fault)
                return _Outcome(gave_up, gave_up)
            if not fault.applies_before_answering:
                sent = fault_answer(fault) if fault.status is not None else None
                return _Outcome(sent, sent)
        answer = self._serve(kind, route, body, record, fault)
        if fault is not None and fault.ghost_write:
            # The write landed and its answer is what the key remembers; the client sees an error or nothing.
            return _Outcome(answer, fault_answer(fault) if fault.status is not None else None)
        return _Outcome(answer, answer)

    def _apply_later(
        self, fault: Fault, kind: RequestKind, route: _Route, body: _Body | None, record: RequestRecord
    ) -> None:
        """The drop applied `fault.apply_after_seconds` after its 5xx answer; in flight on the connection until
        then, so a request sent meanwhile is a concurrency violation, as on CloudZero."""
        assert route.connection_id is not None
        connection_id, label = route.connection_id, f"{record.method} {record.path} (still applying)"
        self.state.enter_connection(connection_id, label, continuing=True)

        def apply() -> None:
            try:
                if not self._stopping.wait(fault.apply_after_seconds):
                    self._serve(kind, route, body, record, None)
            finally:
                self.state.leave_connection(connection_id, label)

        threading.Thread(target=apply, name="cloudzero-late-apply", daemon=True).start()

    def _target(self, kind: RequestKind, route: _Route, payload: object, test_key: str) -> Target:
        if kind == "health":
            return Target(kind)
        if kind == "read":
            return Target(kind, month=rules.month_key(route.month) if route.month else None)
        month = rules.drop_month(payload)
        chunk = None
        if kind == "billing_drops" and month is not None and route.connection_id is not None:
            chunk = self.state.chunk_index(test_key, route.connection_id, month, rules.drop_operation(payload))
        return Target(kind, month=month, chunk=chunk)

    def _serve(
        self, kind: RequestKind, route: _Route, body: _Body | None, record: RequestRecord, fault: Fault | None
    ) -> Answer:
        if kind == "health":
            assert route.connection_id is not None
            return rules.connection_health(route.connection_id)
        if kind == "read":
            assert route.connection_id is not None
            return self._read(route.connection_id, route.month, record.test_key)
        assert body is not None
        if body.over_limit:
            return rules.too_large(self.max_body_bytes)
        drop, errors = (None, ["body is not valid JSON"]) if body.json_error else rules.validate_drop(body.payload)
        if kind == "validate":
            return rules.validation_result(errors)
        if drop is None:
            return rules.invalid_drop(errors)
        assert route.connection_id is not None
        try:
            accepted = self.state.apply(
                route.connection_id,
                record.test_key,
                drop,
                record.idempotency_key,
                fault.drift if fault else None,
                body_bytes=body.size,
                limits=self.month_limits,
            )
        except MonthFull as full:
            return rules.month_full(str(full))
        return rules.accepted(accepted.drop_id, accepted.month, len(accepted.rows))

    def _read(self, connection_id: str, month: str | None, test_key: str) -> Answer:
        if month is None:
            return rules.listing(self.state.months(connection_id, test_key))
        key = rules.month_key(month)
        if key is None:
            return rules.unreadable_month(month)
        return rules.month_read(self.state.month_rows(connection_id, key, test_key), connection_id, key)

    def _body(self, raw: bytes, encoding: str | None) -> _Body:
        decoded = _decompressed(raw, encoding, self.max_body_bytes)
        if rules.is_over_limit(len(decoded), self.max_body_bytes):
            return _Body(over_limit=True, payload=None, json_error=False)
        try:
            return _Body(over_limit=False, payload=json.loads(decoded), json_error=False, size=len(decoded))
        except (ValueError, RecursionError):  # RecursionError: arrays or objects nested too deep to decode
            return _Body(over_limit=False, payload=None, json_error=True, size=len(decoded))

    # -- admin (no auth, not logged) -------------------------------------------------------------------

    def _admin(self, request: Request, raw: bytes) -> Answer:
        route = (request.method, request.path.rstrip("/"))
        if route == ("GET", "/_emulator/state"):
            return Answer(200, self.state.snapshot())
        if route == ("POST", "/_emulator/reset"):
            self.state.reset()
            return Answer(200, {"reset": True})
        if route == ("DELETE", "/_emulator/faults"):
            self.state.clear_faults()
            return Answer(200, {"faults": []})
        if route == ("GET", "/_emulator/faults"):
            return Answer(200, {"faults": [dataclasses.asdict(fault) for fault in self.state.faults()]})
        if route == ("POST", "/_emulator/faults"):
            try:
                fault = self.state.add_fault(fault_from_json(raw))
            except (ValueError, TypeError, RecursionError) as exc:
                return rules.error(400, str(exc))
            return Answer(200, {"fault": dataclasses.asdict(fault)})
        return rules.error(404, f"no admin route for {request.method} {request.path}")


def fault_from_json(raw: bytes) -> Fault:
    """A fault from the admin API's JSON: Fault's fields, plus `apply_before_disconnect` (ghost_write)."""
    spec = json.loads(raw or b"{}")
    if not isinstance(spec, dict):
        raise ValueError("the fault must be a JSON object")
    unknown = set(spec) - {f.name for f in dataclasses.fields(Fault)} - {APPLY_BEFORE_DISCONNECT}
    if unknown:
        raise ValueError(f"unknown fault fields {sorted(unknown)}")
    if spec.pop(APPLY_BEFORE_DISCONNECT, False):
        spec["ghost_write"] = True
    return Fault(**spec)


def _route(request: Request) -> _Route | None:
    try:
        endpoint, arguments = _ROUTES.bind_to_environ(request.environ).match()
    except HTTPException:
        return None
    if endpoint == "connection" and arguments.get("connection_id") == "anycost":
        return None  # the AnyCost prefix itself, not a connection
    return _Route(str(endpoint), arguments.get("connection_id"), arguments.get("month"))


def _kind(method: str, route: _Route | None) -> RequestKind | None:
    if route is None:
        return None
    if route.endpoint == "drops" and method == "POST":
        return "billing_drops"
    if route.endpoint in ("drops", "month") and method == "GET":
        return "read"
    if route.endpoint == "validate" and method == "POST":
        return "validate"
    if route.endpoint == "connection" and method == "GET":
        return "health"
    return None


def _decompressed(body: bytes, encoding: str | None, limit: int) -> bytes:
    """The body with gzip/deflate undone, inflated to at most limit + 1 bytes (enough to tell it is over)."""
    if not encoding or encoding.strip().lower() not in ("gzip", "x-gzip", "deflate"):
        return body
    wbits = 16 + zlib.MAX_WBITS if "gzip" in encoding.lower() else zlib.MAX_WBITS
    try:
        return zlib.decompressobj(wbits).decompress(body, limit + 1)
    except zlib.error:
        return b"\x00"  # not JSON: reported as such


# --- serving ----------------------------------------------------------------------------------------------


class _Server(ThreadedWSGIServer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.open_sockets: set[socket.socket] = set()
        self.sockets_lock = threading.Lock()
        super().__init__(*args, **kwargs)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return  # clients that give up (timeouts, dropped connections) are part of the tests
        super().handle_error(request, client_address)


class _Handler(WSGIRequestHandler):
    server: _Server

    def setup(self) -> None:
        super().setup()
        with self.server.sockets_lock:
            self.server.open_sockets.add(self.connection)

    def finish(self) -> None:
        with self.server.sockets_lock:
            self.server.open_sockets.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def connection_dropped(self, error: BaseException, environ: WSGIEnvironment | None = None) -> None:
        self.close_connection = True
        if isinstance(error, HangUp):
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return  # tests read the emulator's own request log instead


class LoopbackServer:
    """Serves a WSGI app from a daemon thread; `stop()` also closes the client connections still open."""

    def __init__(self, app: EmulatorApp, host: str, port: int) -> None:
        self._app = app
        self._host = host
        self._port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the emulator is not started")
        host, port = self._server.server_address[:2]
        host_text = host.decode() if isinstance(host, bytes) else str(host)
        return f"http://[{host_text}]:{port}" if ":" in host_text else f"http://{host_text}:{port}"

    def start(self) -> None:
        if self._server is not None:
            return
        family = socket.AF_INET6 if ":" in self._host else socket.AF_INET
        # Bound here so a busy port raises OSError (werkzeug's own bind exits the process instead).
        with socket.create_server((self._host, self._port), family=family) as listener:
            server = _Server(self._host, listener.getsockname()[1], self._app, _Handler, fd=listener.fileno())
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name="cloudzero-emulator", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None:
            return
        server.shutdown()
        server.server_close()
        with server.sockets_lock:
            sockets = list(server.open_sockets)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        if thread is not None:
            thread.join(timeout=5)
        self._server = None
        self._thread = None
