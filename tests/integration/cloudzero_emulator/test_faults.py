"""Injected faults over HTTP: error answers, slow answers, dropped connections, ghost writes, drift."""

import time

import pytest
import requests

from tests.integration.cloudzero_emulator.calls import API, API_KEY, CONNECTION, accounts, credit, drop, get, post

# --- faults -----------------------------------------------------------------------------------------------


def test_an_injected_429_carries_retry_after_for_count_requests(emulator):
    emulator.inject_fault(status=429, retry_after=1, count=2)

    answers = [post(emulator, drop([credit("073933415963")])) for _ in range(3)]

    assert [a.status_code for a in answers] == [429, 429, 200]
    assert answers[0].headers["Retry-After"] == "1"
    assert answers[0].json() == {"message": "Too Many Requests"}
    assert len(emulator.drops()) == 1


@pytest.mark.parametrize("status", [500, 502, 503])
def test_injected_server_errors_have_a_json_body_and_write_nothing(emulator, status):
    emulator.inject_fault(status=status, count=1)

    response = post(emulator, drop([credit("073933415963")]))

    assert response.status_code == status
    assert isinstance(response.json()["message"], str)
    assert emulator.month_rows(CONNECTION, "2026-01") == []


def test_faults_apply_to_billing_drop_posts_only_by_default(emulator):
    emulator.inject_fault(status=503, count=1)

    assert get(emulator).status_code == 200
    validate = requests.post(
        f"{emulator.base_url}{API}/validate_billing_drop",
        json=drop([credit("1")]),
        headers={"Authorization": API_KEY},
        timeout=5,
    )
    assert validate.status_code == 200
    assert post(emulator, drop([credit("1")])).status_code == 503


def test_a_fault_for_any_path_hits_reads_too(emulator):
    emulator.inject_fault(status=502, count=1, path="any")

    assert get(emulator).status_code == 502
    assert get(emulator).status_code == 200


def test_a_slow_answer_times_out_a_short_client_while_the_drop_is_still_applied(emulator):
    emulator.inject_fault(delay_seconds=1.0, count=1)

    started = time.monotonic()
    with pytest.raises(requests.Timeout):
        post(emulator, drop([credit("073933415963")]), key="slow-key", timeout=0.3)
    assert time.monotonic() - started < 0.9

    replay = post(emulator, drop([credit("073933415963")]), key="slow-key")  # waits for the first answer
    assert replay.status_code == 200
    assert time.monotonic() - started >= 0.9
    assert accounts(emulator.month_rows(CONNECTION, "2026-01")) == ["073933415963"]
    assert len(emulator.drops()) == 1
    assert replay.json()["connection"]["drop_id"] == emulator.drops()[0].drop_id


def test_a_dropped_connection_answers_nothing_and_writes_nothing(emulator):
    emulator.inject_fault(disconnect=True, count=1)

    with pytest.raises(requests.ConnectionError):
        post(emulator, drop([credit("073933415963")]), key="lost")

    assert emulator.month_rows(CONNECTION, "2026-01") == []
    retry = post(emulator, drop([credit("073933415963")]), key="lost")
    assert retry.status_code == 200
    assert len(emulator.drops()) == 1


def test_a_connection_dropped_after_apply_leaves_the_drop_and_its_cached_answer(emulator):
    emulator.inject_fault(disconnect=True, apply_before_disconnect=True, count=1)

    with pytest.raises(requests.ConnectionError):
        post(emulator, drop([credit("073933415963")]), key="outcome-unknown")

    assert accounts(emulator.month_rows(CONNECTION, "2026-01")) == ["073933415963"]
    retry = post(emulator, drop([credit("073933415963")]), key="outcome-unknown")
    assert retry.status_code == 200
    assert retry.json()["connection"]["drop_id"] == emulator.drops()[0].drop_id
    assert len(emulator.drops()) == 1


# --- ghost writes: applied, then answered as a failure ----------------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_ghost_write_applies_the_drop_and_answers_a_server_error(emulator, status):
    emulator.inject_fault(status=status, ghost_write=True)

    response = post(emulator, drop([credit("073933415963")]), key="ghost")

    assert response.status_code == status
    assert isinstance(response.json()["message"], str)
    assert accounts(emulator.month_rows(CONNECTION, "2026-01")) == ["073933415963"]
    assert accounts(get(emulator, "/2026-01").json()["billing_drop"]) == ["073933415963"]
    [landed] = emulator.drops()
    [listed] = get(emulator).json()["billing_drops"]
    assert listed["drop_id"] == landed.drop_id
    same_key = post(emulator, drop([credit("073933415963")]), key="ghost")
    assert same_key.status_code == 200
    assert same_key.json()["connection"]["drop_id"] == landed.drop_id
    assert len(emulator.drops()) == 1


def test_a_sum_retried_under_a_fresh_key_after_a_ghost_write_lands_twice(emulator):
    post(emulator, drop([credit("000000000001")]))
    emulator.inject_fault(status=502, ghost_write=True)

    failed = post(emulator, drop([credit("000000000002")], "sum"), key="chunk-1-attempt-0")
    retried = post(emulator, drop([credit("000000000002")], "sum"), key="chunk-1-attempt-1")

    assert (failed.status_code, retried.status_code) == (502, 200)
    assert accounts(get(emulator, "/2026-01").json()["billing_drop"]) == [
        "000000000001",
        "000000000002",
        "000000000002",
    ]


def test_a_ghost_write_that_disconnects_leaves_the_drop_applied(emulator):
    emulator.inject_fault(disconnect=True, ghost_write=True)

    with pytest.raises(requests.ConnectionError):
        post(emulator, drop([credit("073933415963")]))

    assert accounts(get(emulator, "/2026-01").json()["billing_drop"]) == ["073933415963"]
    ghost = emulator.requests[0]
    assert (ghost.method, ghost.status, ghost.fault) == ("POST", None, "ghost write, disconnect after apply")


def test_a_ghost_write_can_target_the_nth_drop_request(emulator):
    emulator.inject_fault(status=503, ghost_write=True, skip=2)

    statuses = [post(emulator, drop([credit(f"00000000000{n}")], "sum")).status_code for n in range(1, 5)]

    assert statuses == [200, 200, 503, 200]
    assert accounts(emulator.month_rows(CONNECTION, "2026-01")) == [
        "000000000001",
        "000000000002",
        "000000000003",
        "000000000004",
    ]
    assert [r.fault for r in emulator.requests] == [None, None, "ghost write, status 503", None]


def test_a_ghost_write_can_target_chunk_k_of_month_m(emulator):
    february = "2026-02-01T00:00:00Z"
    emulator.inject_fault(status=500, ghost_write=True, month="2026-01", chunk=1)

    statuses = [
        post(emulator, drop([credit("000000000021", start=february)], month=february)).status_code,
        post(emulator, drop([credit("000000000022", start=february)], "sum", month=february)).status_code,
        post(emulator, drop([credit("000000000010")])).status_code,
        post(emulator, drop([credit("000000000011")], "sum")).status_code,
        post(emulator, drop([credit("000000000012")], "sum")).status_code,
    ]

    assert statuses == [200, 200, 200, 500, 200]
    assert accounts(emulator.month_rows(CONNECTION, "2026-01")) == ["000000000010", "000000000011", "000000000012"]
    assert accounts(emulator.month_rows(CONNECTION, "2026-02")) == ["000000000021", "000000000022"]


def test_the_admin_api_configures_a_targeted_ghost_write(emulator):
    admin = f"{emulator.base_url}/_emulator"

    created = requests.post(
        f"{admin}/faults",
        json={"status": 503, "ghost_write": True, "month": "2026-01-01T00:00:00Z", "chunk": 0},
        timeout=5,
    )
    response = post(emulator, drop([credit("073933415963")]))

    assert created.status_code == 200
    assert created.json()["fault"]["month"] == "2026-01"
    assert response.status_code == 503
    assert accounts(emulator.month_rows(CONNECTION, "2026-01")) == ["073933415963"]
    assert requests.get(f"{admin}/faults", timeout=5).json() == {"faults": []}


@pytest.mark.parametrize(
    "spec",
    [
        {"ghost_write": True},
        {"ghost_write": True, "status": 429},
        {"ghost_write": True, "status": 500, "path": "validate"},
        {"drift": "cost", "status": 500},
        {"drift": "cost", "path": "any"},
        {"drift": "colour"},
        {"status": 500, "month": "January"},
        {"status": 500, "chunk": -1},
        {"status": 500, "skip": -1},
    ],
)
def test_fault_specs_that_cannot_happen_are_rejected(emulator, spec):
    answer = requests.post(f"{emulator.base_url}/_emulator/faults", json=spec, timeout=5)

    assert answer.status_code == 400
    with pytest.raises(ValueError):
        emulator.inject_fault(**spec)
    assert emulator.faults() == []


# --- drift after accept: the month read back no longer matches what was sent ------------------------------


def test_drift_cost_changes_one_rows_cost_in_what_the_month_reads_back(emulator):
    sent = [credit("073933415963", "-6407.96"), credit("062951470133", "0.00")]
    emulator.inject_fault(drift="cost")

    response = post(emulator, drop(sent))
    read_back = get(emulator, "/2026-01").json()["billing_drop"]

    assert response.status_code == 200
    assert response.json()["connection"]["row_count"] == 2
    assert read_back != sent
    assert [row["cost/cost"] for row in read_back] == ["-6407.95", "0.00"]
    assert [row["resource/account"] for row in read_back] == ["073933415963", "062951470133"]
    assert emulator.drops()[0].rows == sent
    assert get(emulator).json()["billing_drops"][0]["row_count"] == 2


def test_drift_drop_row_removes_a_row_from_what_the_month_reads_back(emulator):
    sent = [credit("073933415963"), credit("062951470133")]
    emulator.inject_fault(drift="drop_row")

    response = post(emulator, drop(sent))

    assert response.json()["connection"]["row_count"] == 2
    assert get(emulator, "/2026-01").json()["billing_drop"] == [credit("062951470133")]
    assert get(emulator).json()["billing_drops"][0]["row_count"] == 1
    assert emulator.drops()[0].rows == sent


def test_drift_on_a_sum_chunk_alters_that_chunk_and_a_fresh_replace_drop_heals_the_month(emulator):
    emulator.inject_fault(drift="cost", chunk=1)

    post(emulator, drop([credit("000000000001")]))
    post(emulator, drop([credit("000000000002")], "sum"))
    drifted = get(emulator, "/2026-01").json()["billing_drop"]
    post(emulator, drop([credit("000000000001"), credit("000000000002")]))
    healed = get(emulator, "/2026-01").json()["billing_drop"]

    assert drifted == [credit("000000000001"), credit("000000000002", "-99.99")]
    assert healed == [credit("000000000001"), credit("000000000002")]


def test_drift_can_come_with_a_ghost_write(emulator):
    emulator.inject_fault(status=502, ghost_write=True, drift="drop_row")

    response = post(emulator, drop([credit("073933415963"), credit("062951470133")]))

    assert response.status_code == 502
    assert get(emulator, "/2026-01").json()["billing_drop"] == [credit("062951470133")]
