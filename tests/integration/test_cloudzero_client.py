"""The AnyCost client against the emulator over HTTP: retries, idempotency keys, deadlines, read-backs."""

import socket
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from credits_pipeline.adapters.cloudzero import AnyCostClient
from credits_pipeline.domain.cbf import drop_bodies
from credits_pipeline.domain.messages import AccountCreditRow, FileRef, MonthBatch
from credits_pipeline.services.ports import CloudZeroRejected, CloudZeroUnavailable, OutcomeUnknown
from local_stack.cloudzero import CloudZeroEmulator

CONNECTION = "conn-1"
KEY = "secret-key"


@pytest.fixture
def emulator() -> Iterator[CloudZeroEmulator]:
    with CloudZeroEmulator(api_key=KEY) as running:
        yield running


def batch(month: str = "2026-01") -> MonthBatch:
    return MonthBatch(
        file=FileRef(bucket="b", key="incoming/x.csv", sha256="a" * 64),
        month=month,
        credits=[
            AccountCreditRow(account_id="000000000001", cost=Decimal("-10.50"), description="d", service="s"),
            AccountCreditRow(account_id="000000000002", cost=Decimal("-0.01"), description="d", service="s"),
        ],
    )


def client(emulator: CloudZeroEmulator, waits: list[float] | None = None, timeout: float = 5.0) -> AnyCostClient:
    return AnyCostClient(
        emulator.base_url,
        CONNECTION,
        KEY,
        request_timeout=timeout,
        deadline_margin=0.5,
        sleep=waits.append if waits is not None else None,
    )


def plenty() -> float:
    return 60.0


def test_a_month_lands_as_one_replace_drop(emulator: CloudZeroEmulator) -> None:
    [body] = drop_bodies(batch())
    receipt = client(emulator).post_drop(body, "delivery-1", plenty)
    rows = emulator.month_rows(CONNECTION, "2026-01")
    assert receipt.row_count == 2
    assert sum(Decimal(row["cost/cost"]) for row in rows) == Decimal("-10.51")
    assert [drop.operation for drop in emulator.drops(CONNECTION)] == ["replace_drop"]


def test_error_answers_are_retried_with_a_fresh_key_honouring_retry_after(emulator: CloudZeroEmulator) -> None:
    emulator.inject_fault(status=429, retry_after=3, count=1)
    emulator.inject_fault(status=429, count=1)
    waits: list[float] = []
    [body] = drop_bodies(batch())
    client(emulator, waits).post_drop(body, "delivery-1", plenty)
    keys = [request.idempotency_key for request in emulator.requests if request.method == "POST"]
    assert len(keys) == 3 and len(set(keys)) == 3  # a cached error answer is never asked for again
    assert waits[0] == 3  # Retry-After honoured
    assert len(emulator.drops(CONNECTION)) == 1


def test_a_month_of_one_chunk_that_gets_no_answer_is_not_sent_again_while_it_may_be_in_flight(
    emulator: CloudZeroEmulator,
) -> None:
    # "never have two requests to one connection in flight at once": the slow one may still be applying.
    emulator.inject_fault(delay_seconds=1.5, count=1)
    [body] = drop_bodies(batch())
    with pytest.raises(OutcomeUnknown, match="chunk 0 of 2026-01 got no answer"):
        client(emulator, waits=[], timeout=1.0).post_drop(body, "delivery-1", plenty)
    time.sleep(1.0)  # the emulator logs a request when it ends: the slow one ends 0.5 s after the timeout
    assert len([request for request in emulator.requests if request.method == "POST"]) == 1
    assert emulator.concurrency_violations == []


def test_a_request_that_never_reached_cloudzero_is_tried_again_and_is_no_unknown_outcome() -> None:
    with socket.socket() as unused:  # a port nothing listens on: every connection is refused
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    waits: list[float] = []
    refused = AnyCostClient(f"http://127.0.0.1:{port}", CONNECTION, KEY, deadline_margin=0.5, sleep=waits.append)
    [body] = drop_bodies(batch())
    with pytest.raises(CloudZeroUnavailable, match="Connection refused") as raised:  # the invocation's time ran short
        refused.post_drop(body, "delivery-1", lambda: 60.0 if len(waits) < 2 else 0.1)
    assert not isinstance(raised.value, OutcomeUnknown)
    assert len(waits) >= 2  # tried again, with a wait between


def test_a_final_answer_is_not_retried_and_carries_cloudzeros_message(emulator: CloudZeroEmulator) -> None:
    emulator.inject_fault(status=400, count=1, message="row 0: time/usage_start outside the month")
    [body] = drop_bodies(batch())
    with pytest.raises(CloudZeroRejected) as raised:
        client(emulator, waits=[]).post_drop(body, "delivery-1", plenty)
    assert raised.value.status == 400
    assert "outside the month" in str(raised.value)
    assert len([r for r in emulator.requests if r.method == "POST"]) == 1


def test_wrong_api_key_is_final(emulator: CloudZeroEmulator) -> None:
    [body] = drop_bodies(batch())
    wrong = AnyCostClient(emulator.base_url, CONNECTION, "Bearer " + KEY)
    with pytest.raises(CloudZeroRejected) as raised:
        wrong.post_drop(body, "delivery-1", plenty)
    assert raised.value.status == 403


def test_retries_stop_before_the_deadline(emulator: CloudZeroEmulator) -> None:
    emulator.inject_fault(status=429, count=1000)
    [body] = drop_bodies(batch())
    budget = 4.0
    waits: list[float] = []  # the client's clock: only its waits between attempts pass time

    def remaining() -> float:
        return budget - sum(waits)

    with pytest.raises(CloudZeroUnavailable):
        client(emulator, waits).post_drop(body, "delivery-1", remaining)
    assert len([r for r in emulator.requests if r.method == "POST"]) > 1  # it did retry
    assert sum(waits) < budget  # and gave up before the deadline, not after it
    assert emulator.drops(CONNECTION) == []


def test_validate_writes_nothing(emulator: CloudZeroEmulator) -> None:
    [body] = drop_bodies(batch())
    result = client(emulator).validate_drop(body, plenty)
    assert result.is_valid and result.errors == []
    assert emulator.drops() == []
    assert list(client(emulator).month_rows("2026-01", plenty)) == []


def test_an_oversized_month_goes_in_ordered_chunks_and_adds_up(emulator: CloudZeroEmulator) -> None:
    rows = [
        AccountCreditRow(account_id=f"{n:012d}", cost=Decimal(f"-{n}.25"), description="d", service="s")
        for n in range(1, 200)
    ]
    big = MonthBatch(file=FileRef(bucket="b", key="k", sha256="b" * 64), month="2026-02", credits=rows)
    bodies = drop_bodies(big, max_bytes=8_000)
    api = client(emulator)
    for body in bodies:
        api.post_drop(body, "delivery-1", plenty)
    held = emulator.month_rows(CONNECTION, "2026-02")
    assert len(bodies) > 1
    assert [d.operation for d in emulator.drops(CONNECTION)] == ["replace_drop"] + ["sum"] * (len(bodies) - 1)
    assert sum(Decimal(r["cost/cost"]) for r in held) == -sum(Decimal(f"{n}.25") for n in range(1, 200))


def test_a_403_reads_the_key_again_once_in_case_the_operator_stored_a_new_one(emulator: CloudZeroEmulator) -> None:
    [body] = drop_bodies(batch())
    stale = AnyCostClient(emulator.base_url, CONNECTION, "old-key", refresh_api_key=lambda: KEY)
    stale.post_drop(body, "delivery-1", plenty)
    assert len(emulator.drops(CONNECTION)) == 1

    still_wrong = AnyCostClient(emulator.base_url, CONNECTION, "old-key", refresh_api_key=lambda: "old-key")
    with pytest.raises(CloudZeroRejected) as raised:
        still_wrong.post_drop(body, "delivery-2", plenty)
    assert raised.value.status == 403


@pytest.mark.parametrize("status", [500, 503, 504])
@pytest.mark.parametrize("chunk", [0, 1], ids=["replace_drop", "sum"])
def test_a_drop_answered_5xx_is_not_sent_again_while_cloudzero_may_still_apply_it(
    emulator: CloudZeroEmulator, chunk: int, status: int
) -> None:
    # A gateway that gives up on a backend still at work answers 5xx; the drop lands after. Sent again now,
    # a sum would be added twice, and a replace_drop landing late would wipe the sums sent after it.
    bodies = drop_bodies(batch(), max_bytes=len(drop_bodies(batch())[0].body) - 10)[:2]
    assert [body.operation for body in bodies] == ["replace_drop", "sum"]
    cloudzero = client(emulator, waits=[])
    if chunk:
        cloudzero.post_drop(bodies[0], "delivery-1", plenty)
    emulator.inject_fault(status=status, apply_after_seconds=0.5, count=1)

    with pytest.raises(OutcomeUnknown, match=f"chunk {chunk} of 2026-01: CloudZero answered {status}"):
        cloudzero.post_drop(bodies[chunk], "delivery-1", plenty)
    posts = [request for request in emulator.requests if request.method == "POST"]
    assert len(posts) == chunk + 1  # nothing sent again
    deadline = time.monotonic() + 10
    while len(emulator.drops(CONNECTION)) < chunk + 1 and time.monotonic() < deadline:
        time.sleep(0.05)  # the drop lands after its answer
    assert [drop.operation for drop in emulator.drops(CONNECTION)] == [body.operation for body in bodies[: chunk + 1]]
    assert emulator.concurrency_violations == []


def test_a_dry_run_answered_5xx_is_tried_again(emulator: CloudZeroEmulator) -> None:
    # It writes nothing: nothing can land twice.
    emulator.inject_fault(status=503, path="validate", count=1)
    [body] = drop_bodies(batch())
    assert client(emulator, waits=[]).validate_drop(body, plenty).is_valid
    assert len([request for request in emulator.requests if request.path.endswith("validate_billing_drop")]) == 2


@pytest.mark.parametrize("chunk", [0, 1], ids=["replace_drop", "sum"])
def test_a_chunk_of_a_month_of_several_that_gets_no_answer_is_not_sent_again(
    emulator: CloudZeroEmulator, chunk: int
) -> None:
    # CloudZero may still be applying it: a second request now would be two in flight, and whichever lands
    # last could add a sum twice or wipe the chunks after a replace_drop.
    bodies = drop_bodies(batch(), max_bytes=len(drop_bodies(batch())[0].body) - 10)[:2]
    cloudzero = client(emulator, waits=[], timeout=1.0)
    if chunk:
        cloudzero.post_drop(bodies[0], "delivery-1", plenty)
    emulator.inject_fault(delay_seconds=1.5, count=1)

    with pytest.raises(OutcomeUnknown, match=f"chunk {chunk} of 2026-01 got no answer"):
        cloudzero.post_drop(bodies[chunk], "delivery-1", plenty)
    time.sleep(1.0)  # the emulator logs a request when it ends: the slow one ends 0.5 s after the timeout
    posts = [request for request in emulator.requests if request.method == "POST"]
    assert len(posts) == chunk + 1  # the one that got no answer was not sent again
    assert emulator.concurrency_violations == []


# --- reading a month back: rows parsed as the answer streams in -------------------------------------------


def test_a_month_is_read_back_row_by_row_as_cloudzero_holds_it(emulator: CloudZeroEmulator) -> None:
    rows = [
        AccountCreditRow(account_id=f"{n:012d}", cost=Decimal(f"-{n}.25"), description="d", service="s")
        for n in range(1, 200)
    ]
    big = MonthBatch(file=FileRef(bucket="b", key="k", sha256="b" * 64), month="2026-02", credits=rows)
    api = client(emulator)
    for body in drop_bodies(big, max_bytes=8_000):
        api.post_drop(body, "delivery-1", plenty)

    read_back = api.month_rows("2026-02", plenty)

    assert not isinstance(read_back, list)  # rows come as they are read, not as one list
    assert list(read_back) == emulator.month_rows(CONNECTION, "2026-02")


def test_a_read_back_is_asked_for_when_called_and_retried_after_an_error_answer(emulator: CloudZeroEmulator) -> None:
    [body] = drop_bodies(batch())
    api = client(emulator, waits=[])
    api.post_drop(body, "delivery-1", plenty)
    emulator.inject_fault(status=503, path="any", count=1)

    read_back = api.month_rows("2026-01", plenty)

    assert len([r for r in emulator.requests if r.method == "GET"]) == 2  # both before a row was read
    assert [row["resource/account"] for row in read_back] == ["000000000001", "000000000002"]


def test_a_read_back_refused_raises_when_called(emulator: CloudZeroEmulator) -> None:
    wrong = AnyCostClient(emulator.base_url, CONNECTION, "not-the-key")
    with pytest.raises(CloudZeroRejected) as raised:
        wrong.month_rows("2026-01", plenty)  # not iterated: the answer is checked at the call
    assert raised.value.status == 403


class _BrokenOff(BaseHTTPRequestHandler):
    """Answers 200 with half a month, then hangs up."""

    def do_GET(self) -> None:
        half = b'{"billing_drop": [{"resource/account": "000000000001", "cost/cost": "-1.00"}, {"resource/acc'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(half) * 2))
        self.end_headers()
        self.wfile.write(half)
        self.wfile.flush()
        self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_a_read_back_broken_off_midway_is_unavailable_not_a_short_month() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _BrokenOff)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        api = AnyCostClient(f"http://127.0.0.1:{server.server_address[1]}", CONNECTION, KEY, request_timeout=5.0)
        rows = api.month_rows("2026-01", plenty)
        with pytest.raises(CloudZeroUnavailable, match="reading 2026-01 back from CloudZero broke off"):
            list(rows)
    finally:
        server.shutdown()
        server.server_close()


def test_read_backs_parse_with_ijsons_c_backend() -> None:
    import ijson  # type: ignore[import-untyped]  # noqa: PLC0415 - what the client imports to read a month back

    # The pure-Python backends would take many times longer over a month of a million rows.
    assert ijson.backend == "yajl2_c"


def test_a_key_stored_with_spaces_or_a_line_break_around_it_is_sent_without_them(emulator: CloudZeroEmulator) -> None:
    # `put-secret-value --secret-string file://key.txt` keeps the file's last line break.
    [body] = drop_bodies(batch())
    AnyCostClient(emulator.base_url, CONNECTION, f" {KEY}\n").post_drop(body, "delivery-1", plenty)
    assert len(emulator.drops(CONNECTION)) == 1


def test_a_key_that_cannot_go_in_a_header_is_refused_unsent_without_repeating_it(emulator: CloudZeroEmulator) -> None:
    [body] = drop_bodies(batch())
    broken = AnyCostClient(emulator.base_url, CONNECTION, "S3CR3T\nK3Y")
    with pytest.raises(CloudZeroRejected) as raised:
        broken.post_drop(body, "delivery-1", plenty)
    assert raised.value.status == 403  # final: the month waits for a person, as after CloudZero's own 403
    assert "S3CR3T" not in str(raised.value) and "store the key alone in the secret again" in str(raised.value)
    assert emulator.requests == []

    # Stored again, it is read again at the next call (no new container needed).
    stored_again = AnyCostClient(emulator.base_url, CONNECTION, "S3CR3T\nK3Y", refresh_api_key=lambda: KEY + "\n")
    stored_again.post_drop(body, "delivery-2", plenty)
    assert len(emulator.drops(CONNECTION)) == 1
