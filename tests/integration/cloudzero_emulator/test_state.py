"""What the emulator remembers about requests: the request log and overlapping requests to one connection."""

import threading
import time

import pytest
import requests

from local_stack.cloudzero import CloudZeroEmulator
from tests.integration.cloudzero_emulator.calls import API, CONNECTION, OTHER_CONNECTION, credit, drop, get, post

# --- concurrency ------------------------------------------------------------------------------------------


def test_a_second_request_to_a_connection_in_flight_is_recorded_as_a_violation(emulator):
    emulator.inject_fault(delay_seconds=0.6, count=1)
    answers: list[int] = []
    slow = threading.Thread(target=lambda: answers.append(post(emulator, drop([credit("1")])).status_code))

    slow.start()
    time.sleep(0.2)
    overlapping = get(emulator)
    slow.join()

    assert overlapping.status_code == 200
    assert answers == [200]
    [violation] = emulator.concurrency_violations
    assert violation.connection_id == CONNECTION
    assert violation.paths == [
        f"POST {API}/{CONNECTION}/billing_drops",
        f"GET {API}/{CONNECTION}/billing_drops",
    ]


def test_sequential_requests_and_other_connections_are_no_violation(emulator):
    emulator.inject_fault(delay_seconds=0.5, count=1)
    slow = threading.Thread(target=post, args=(emulator, drop([credit("1")])))

    slow.start()
    time.sleep(0.15)
    post(emulator, drop([credit("2")]), connection=OTHER_CONNECTION)
    slow.join()
    post(emulator, drop([credit("3")]))
    get(emulator)

    assert emulator.concurrency_violations == []


# Reference: "Concurrent requests to the same stream are not supported: never have two requests to one
# connection in flight at once." A request reusing the key of one still in flight is such a second request.
def test_a_request_reusing_the_key_of_one_still_in_flight_is_a_violation_and_replays_its_answer(
    emulator: CloudZeroEmulator,
) -> None:
    emulator.inject_fault(delay_seconds=1.0, count=1)
    with pytest.raises(requests.Timeout):
        post(emulator, drop([credit("073933415963")]), key="jan-chunk-0", timeout=0.3)

    again = post(emulator, drop([credit("073933415963")]), key="jan-chunk-0")  # the first is still in flight

    [violation] = emulator.concurrency_violations
    assert violation.connection_id == CONNECTION
    assert violation.paths == [f"POST {API}/{CONNECTION}/billing_drops"] * 2
    assert again.status_code == 200
    [landed] = emulator.drops()
    assert again.json()["connection"]["drop_id"] == landed.drop_id
    assert [(request.status, request.replayed) for request in emulator.requests] == [(200, False), (200, True)]


# --- records and admin API --------------------------------------------------------------------------------


def test_every_request_is_recorded(emulator):
    post(emulator, drop([credit("1"), credit("2")], "sum"), key="k1", test_key="t1")
    post(emulator, drop([credit("1")]), auth=None)

    first, second = emulator.requests
    assert (first.method, first.path, first.status) == ("POST", f"{API}/{CONNECTION}/billing_drops", 200)
    assert (first.idempotency_key, first.test_key, first.operation, first.row_count) == ("k1", "t1", "sum", 2)
    assert first.started <= first.ended
    assert second.status == 403
    [accepted] = emulator.drops(CONNECTION)
    assert (accepted.idempotency_key, accepted.operation, accepted.month) == ("k1", "sum", "2026-01")
