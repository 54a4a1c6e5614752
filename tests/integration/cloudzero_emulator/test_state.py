"""What the emulator remembers about requests: the request log and overlapping requests to one connection."""

import threading
import time

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
