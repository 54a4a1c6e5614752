"""The CloudZero AnyCost Stream API emulator over real HTTP: what a client of the API sees."""

import json
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import pytest
import requests

from local_stack.cloudzero_emulator import CloudZeroEmulator

API_KEY = "test-api-key"
CONNECTION = "3f2a9c1e-0b7d-4e5f-9a8b-1c2d3e4f5a6b"
OTHER_CONNECTION = "7d6c5b4a-3e2f-4a1b-8c9d-0e1f2a3b4c5d"
API = "/v2/connections/billing/anycost"
EMULATOR_SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "local_stack" / "cloudzero_emulator.py"


@pytest.fixture(scope="module")
def running() -> Iterator[CloudZeroEmulator]:
    with CloudZeroEmulator(api_key=API_KEY) as emulator:
        yield emulator


@pytest.fixture
def emulator(running: CloudZeroEmulator) -> CloudZeroEmulator:
    running.reset()
    return running


def credit(account: str, cost: str = "-100.00", start: str = "2026-01-01T00:00:00Z") -> dict[str, str]:
    return {
        "lineitem/type": "Credit",
        "resource/service": "AWSCredits",
        "resource/account": account,
        "time/usage_start": start,
        "cost/cost": cost,
    }


def drop(rows: Sequence[Mapping[str, object]], operation: str | None = None, month: str = "2026-01-01T00:00:00Z"):
    body: dict[str, object] = {"month": month, "data": rows}
    if operation is not None:
        body["operation"] = operation
    return body


def post(
    emulator: CloudZeroEmulator,
    body: object,
    *,
    connection: str = CONNECTION,
    key: str | None = None,
    test_key: str | None = None,
    auth: str | None = API_KEY,
    timeout: float = 5,
) -> requests.Response:
    headers = {}
    if auth is not None:
        headers["Authorization"] = auth
    if key is not None:
        headers["cloudzero-idempotency-key"] = key
    if test_key is not None:
        headers["cloudzero-test-key"] = test_key
    return requests.post(
        f"{emulator.base_url}{API}/{connection}/billing_drops", json=body, headers=headers, timeout=timeout
    )


def get(emulator: CloudZeroEmulator, suffix: str = "", *, test_key: str | None = None, connection=CONNECTION):
    headers = {"Authorization": API_KEY}
    if test_key is not None:
        headers["cloudzero-test-key"] = test_key
    return requests.get(f"{emulator.base_url}{API}/{connection}/billing_drops{suffix}", headers=headers, timeout=5)


def accounts(rows: list[dict[str, str]]) -> list[str]:
    return sorted(row["resource/account"] for row in rows)


# --- auth -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("auth", [None, f"Bearer {API_KEY}", "wrong-key", f"{API_KEY} "])
def test_anything_but_the_exact_api_key_is_forbidden(emulator, auth):
    response = post(emulator, drop([credit("073933415963")]), auth=auth)

    assert response.status_code == 403
    assert isinstance(response.json()["message"], str)
    assert emulator.month_rows(CONNECTION, "2026-01") == []


def test_the_exact_api_key_without_bearer_is_accepted(emulator):
    assert post(emulator, drop([credit("073933415963")])).status_code == 200


# --- endpoint shapes --------------------------------------------------------------------------------------


def test_post_answers_the_drop_and_the_month_can_be_listed_and_read(emulator):
    rows = [credit("073933415963"), credit("062951470133", "0.00")]

    response = post(emulator, drop(rows))

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    connection = response.json()["connection"]
    assert set(connection) == {"drop_id", "month", "row_count"}
    assert uuid.UUID(connection["drop_id"]).version == 4
    assert connection["month"] == "2026-01-01T00:00:00Z"
    assert connection["row_count"] == 2

    listing = get(emulator)
    assert listing.status_code == 200
    assert listing.json() == {
        "billing_drops": [{"drop_id": connection["drop_id"], "month": "2026-01-01T00:00:00Z", "row_count": 2}]
    }
    for month in ("2026-01", "2026-01-01T00:00:00Z"):
        month_response = get(emulator, f"/{month}")
        assert month_response.status_code == 200
        assert month_response.json() == {"billing_drop": rows}


def test_reading_a_month_without_a_drop_is_404_with_an_error_body(emulator):
    post(emulator, drop([credit("073933415963")]))

    response = get(emulator, "/2026-02")

    assert response.status_code == 404
    error = response.json()["error"]
    assert isinstance(error["message"], str)
    assert isinstance(error["type"], str)


def test_listing_shows_the_latest_drop_per_month_with_the_current_row_count(emulator):
    post(emulator, drop([credit("073933415963")]))
    second = post(emulator, drop([credit("062951470133")], "sum")).json()["connection"]
    february = post(
        emulator, drop([credit("111111111111", start="2026-02-01T00:00:00Z")], month="2026-02-01T00:00:00Z")
    ).json()["connection"]

    assert get(emulator).json()["billing_drops"] == [
        {"drop_id": second["drop_id"], "month": "2026-01-01T00:00:00Z", "row_count": 2},
        {"drop_id": february["drop_id"], "month": "2026-02-01T00:00:00Z", "row_count": 1},
    ]
    assert get(emulator, connection=OTHER_CONNECTION).json() == {"billing_drops": []}


# --- operations -------------------------------------------------------------------------------------------


def test_replace_drop_replaces_the_whole_month(emulator):
    assert post(emulator, drop([credit("073933415963"), credit("062951470133")])).status_code == 200

    assert post(emulator, drop([credit("111111111111")], "replace_drop")).status_code == 200

    assert accounts(emulator.month_rows(CONNECTION, "2026-01")) == ["111111111111"]
    assert accounts(get(emulator, "/2026-01").json()["billing_drop"]) == ["111111111111"]
    assert [d.operation for d in emulator.drops(CONNECTION)] == ["replace_drop", "replace_drop"]


def test_replace_drop_leaves_other_months_and_connections_alone(emulator):
    post(emulator, drop([credit("222222222222", start="2026-02-03T00:00:00Z")], month="2026-02-01T00:00:00Z"))
    post(emulator, drop([credit("333333333333")]), connection=OTHER_CONNECTION)

    post(emulator, drop([credit("111111111111")]))

    assert accounts(emulator.month_rows(CONNECTION, "2026-02")) == ["222222222222"]
    assert accounts(emulator.month_rows(OTHER_CONNECTION, "2026-01")) == ["333333333333"]


def test_sum_appends_to_the_month(emulator):
    post(emulator, drop([credit("073933415963")]))

    response = post(emulator, drop([credit("062951470133"), credit("073933415963")], "sum"))

    assert response.json()["connection"]["row_count"] == 2
    assert accounts(emulator.month_rows(CONNECTION, "2026-01")) == [
        "062951470133",
        "073933415963",
        "073933415963",
    ]


def test_replace_hourly_replaces_only_the_hours_the_new_rows_cover(emulator):
    post(
        emulator,
        drop(
            [
                credit("000000000001", start="2026-01-01T00:00:00Z"),
                credit("000000000002", start="2026-01-01T01:15:00Z"),
                credit("000000000003", start="2026-01-01T02:00:00Z"),
            ]
        ),
    )

    post(emulator, drop([credit("000000000009", start="2026-01-01T01:59:59Z")], "replace_hourly"))

    assert accounts(emulator.month_rows(CONNECTION, "2026-01")) == [
        "000000000001",
        "000000000003",
        "000000000009",
    ]


def test_every_operation_creates_a_drop_when_the_month_is_empty(emulator):
    for index, operation in enumerate(["sum", "replace_hourly"]):
        month = f"2026-0{index + 3}"
        start = f"{month}-01T00:00:00Z"
        response = post(emulator, drop([credit("073933415963", start=start)], operation, month=start))
        assert response.status_code == 200
        assert get(emulator, f"/{month}").json() == {"billing_drop": [credit("073933415963", start=start)]}


def test_negative_and_zero_costs_are_accepted(emulator):
    rows = [credit("073933415963", "-6407.96"), credit("062951470133", "0.00"), credit("1", "-100")]

    assert post(emulator, drop(rows)).status_code == 200
    assert [row["cost/cost"] for row in emulator.month_rows(CONNECTION, "2026-01")] == ["-6407.96", "0.00", "-100"]


def test_tags_with_a_resource_id_are_accepted(emulator):
    row = {**credit("073933415963"), "resource/id": "credit-073933415963", "resource/tag:team": "platform"}

    assert post(emulator, drop([row])).status_code == 200


# --- validation -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (drop([credit("1"), credit("2", start="2026-02-01T00:00:00Z")]), "row 1"),
        (drop([{**credit("1"), "lineitem/type": "Refund"}]), "lineitem/type"),
        (drop([credit("1", "-1.23456E3")]), "cost/cost"),
        (drop([credit("1", "1e3")]), "cost/cost"),
        (drop([{**credit("1"), "cost/cost": -100.0}]), "string"),
        (drop([{**credit("1"), "resource/account": 73933415963}]), "string"),
        (drop([{**credit("1"), "resource/colour": "blue"}]), "unknown column"),
        (drop([{**credit("1"), "resource/tag:team": "platform"}]), "resource/id"),
        (drop([{k: v for k, v in credit("1").items() if k != "cost/cost"}]), "cost/cost"),
        (drop([{k: v for k, v in credit("1").items() if k != "time/usage_start"}]), "time/usage_start"),
        (drop([credit("1")], "overwrite"), "operation"),
        (drop([credit("1")], month="2026-01"), "month"),
        (drop([credit("1")], month="January 2026"), "month"),
        ({"data": [credit("1")]}, "month"),
        ({"month": "2026-01-01T00:00:00Z"}, "data"),
        ({"month": "2026-01-01T00:00:00Z", "data": {"0": credit("1")}}, "data"),
        ([credit("1")], "JSON object"),
    ],
)
def test_invalid_drops_are_rejected_with_400_and_nothing_is_written(emulator, body, needle):
    response = post(emulator, body)

    assert response.status_code == 400
    error = response.json()["error"]
    assert needle in error["message"]
    assert isinstance(error["type"], str)
    assert emulator.month_rows(CONNECTION, "2026-01") == []
    assert emulator.drops() == []


def test_a_rejected_drop_leaves_earlier_data_in_place(emulator):
    post(emulator, drop([credit("073933415963")]))

    assert post(emulator, drop([credit("1"), credit("2", "1E2")])).status_code == 400

    assert accounts(emulator.month_rows(CONNECTION, "2026-01")) == ["073933415963"]


def test_a_body_that_is_not_json_is_400(emulator):
    response = requests.post(
        f"{emulator.base_url}{API}/{CONNECTION}/billing_drops",
        data=b"month=2026-01",
        headers={"Authorization": API_KEY},
        timeout=5,
    )

    assert response.status_code == 400
    assert "JSON" in response.json()["error"]["message"]


def test_a_body_over_the_limit_is_413_and_one_at_the_limit_is_accepted():
    with CloudZeroEmulator(api_key=API_KEY, max_body_bytes=2_000) as small:
        body = drop([credit(f"{index:012d}") for index in range(30)])
        assert len(json.dumps(body)) > 2_000

        response = post(small, body)

        assert response.status_code == 413
        assert isinstance(response.json()["message"], str)
        assert small.month_rows(CONNECTION, "2026-01") == []
        raw = b'{"month": "2026-01-01T00:00:00Z", "data": []}'
        padded = raw[:-1] + b" " * (2_000 - len(raw)) + b"}"
        at_limit = requests.post(
            f"{small.base_url}{API}/{CONNECTION}/billing_drops",
            data=padded,
            headers={"Authorization": API_KEY, "Content-Type": "application/json"},
            timeout=5,
        )
        assert len(padded) == 2_000
        assert at_limit.status_code == 200


# --- validate endpoint ------------------------------------------------------------------------------------


def test_validate_answers_is_valid_and_errors_and_writes_nothing(emulator):
    url = f"{emulator.base_url}{API}/validate_billing_drop"
    headers = {"Authorization": API_KEY}

    good = requests.post(url, json=drop([credit("073933415963")]), headers=headers, timeout=5)
    bad = requests.post(
        url, json=drop([credit("1", "1E3"), credit("2", start="2025-12-31T23:00:00Z")]), headers=headers, timeout=5
    )

    assert good.status_code == 200
    assert good.json() == {"connection": {"is_valid": True, "errors": []}}
    assert bad.status_code == 200
    result = bad.json()["connection"]
    assert result["is_valid"] is False
    assert any("row 0" in error and "cost/cost" in error for error in result["errors"])
    assert any("row 1" in error and "outside" in error for error in result["errors"])
    assert emulator.month_rows(CONNECTION, "2026-01") == []
    assert emulator.drops() == []
    assert get(emulator).json() == {"billing_drops": []}
    unauthorised = requests.post(url, json=drop([credit("1")]), timeout=5)
    assert unauthorised.status_code == 403


# --- idempotency ------------------------------------------------------------------------------------------


def test_a_reused_idempotency_key_replays_the_first_answer_and_drops_the_new_data(emulator):
    first = post(emulator, drop([credit("073933415963")]), key="jan-chunk-0")

    again = post(emulator, drop([credit("111111111111")]), key="jan-chunk-0")

    assert again.status_code == 200
    assert again.json() == first.json()
    assert accounts(emulator.month_rows(CONNECTION, "2026-01")) == ["073933415963"]
    assert len(emulator.drops()) == 1
    fresh = post(emulator, drop([credit("111111111111")]), key="jan-chunk-0-attempt-1")
    assert fresh.json()["connection"]["drop_id"] != first.json()["connection"]["drop_id"]
    assert accounts(emulator.month_rows(CONNECTION, "2026-01")) == ["111111111111"]


def test_an_error_answer_is_cached_under_its_idempotency_key_too(emulator):
    invalid = post(emulator, drop([credit("1", "1E3")]), key="k-invalid")
    assert invalid.status_code == 400

    assert post(emulator, drop([credit("1")]), key="k-invalid").status_code == 400
    assert emulator.month_rows(CONNECTION, "2026-01") == []


def test_an_injected_500_is_cached_under_its_key_and_a_new_key_succeeds(emulator):
    emulator.inject_fault(status=500, count=1)

    first = post(emulator, drop([credit("073933415963")]), key="k-500")
    emulator.clear_faults()
    again = post(emulator, drop([credit("073933415963")]), key="k-500")
    fresh = post(emulator, drop([credit("073933415963")]), key="k-500-attempt-1")

    assert first.status_code == 500
    assert isinstance(first.json(), dict)
    assert again.status_code == 500
    assert again.json() == first.json()
    assert fresh.status_code == 200
    assert accounts(emulator.month_rows(CONNECTION, "2026-01")) == ["073933415963"]


def test_idempotency_keys_are_scoped_to_the_path(emulator):
    post(emulator, drop([credit("073933415963")]), key="shared-key")

    other = post(emulator, drop([credit("111111111111")]), key="shared-key", connection=OTHER_CONNECTION)

    assert other.status_code == 200
    assert accounts(emulator.month_rows(OTHER_CONNECTION, "2026-01")) == ["111111111111"]


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

    with pytest.raises(requests.Timeout):
        post(emulator, drop([credit("073933415963")]), key="slow-key", timeout=0.3)

    replay = post(emulator, drop([credit("073933415963")]), key="slow-key")  # waits for the first answer
    assert replay.status_code == 200
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


# --- sandbox namespaces -----------------------------------------------------------------------------------


def test_a_test_key_writes_and_reads_its_own_namespace(emulator):
    post(emulator, drop([credit("073933415963")]))

    sandboxed = post(emulator, drop([credit("999999999999")]), test_key="smoke-1")

    assert sandboxed.status_code == 200
    assert accounts(emulator.month_rows(CONNECTION, "2026-01")) == ["073933415963"]
    assert accounts(emulator.month_rows(CONNECTION, "2026-01", test_key="smoke-1")) == ["999999999999"]
    assert accounts(get(emulator, "/2026-01", test_key="smoke-1").json()["billing_drop"]) == ["999999999999"]
    assert accounts(get(emulator, "/2026-01").json()["billing_drop"]) == ["073933415963"]
    assert get(emulator, "/2026-01", test_key="smoke-2").status_code == 404
    assert [d.test_key for d in emulator.drops()] == ["", "smoke-1"]


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


def test_the_admin_http_api_drives_faults_and_shows_state(emulator):
    admin = f"{emulator.base_url}/_emulator"

    created = requests.post(f"{admin}/faults", json={"status": 429, "retry_after": 2, "count": 5}, timeout=5)
    assert created.status_code == 200
    throttled = post(emulator, drop([credit("1")]))
    assert throttled.status_code == 429
    assert throttled.headers["Retry-After"] == "2"
    assert requests.delete(f"{admin}/faults", timeout=5).status_code == 200
    assert post(emulator, drop([credit("073933415963")])).status_code == 200

    state = requests.get(f"{admin}/state", timeout=5).json()
    assert [d["rows"] for d in state["drops"]] == [[credit("073933415963")]]
    [month] = state["months"]
    assert (month["connection_id"], month["month"], month["row_count"]) == (CONNECTION, "2026-01", 1)
    assert [r["status"] for r in state["requests"]] == [429, 200]
    assert state["concurrency_violations"] == []

    assert requests.post(f"{admin}/faults", json={"status": 429, "colour": "red"}, timeout=5).status_code == 400
    assert requests.post(f"{admin}/reset", timeout=5).status_code == 200
    assert emulator.drops() == []
    assert get(emulator).json() == {"billing_drops": []}


def test_the_admin_api_injects_delays_and_disconnects(emulator):
    admin = f"{emulator.base_url}/_emulator"
    requests.post(f"{admin}/faults", json={"disconnect": True, "count": 1}, timeout=5).raise_for_status()
    requests.post(f"{admin}/faults", json={"delay_seconds": 0.5, "count": 1}, timeout=5).raise_for_status()

    with pytest.raises(requests.ConnectionError):
        post(emulator, drop([credit("1")]))
    with pytest.raises(requests.Timeout):
        post(emulator, drop([credit("1")]), timeout=0.2)


def test_unknown_paths_are_404():
    with CloudZeroEmulator(api_key=API_KEY) as emulator:
        response = requests.get(f"{emulator.base_url}/v2/nothing", headers={"Authorization": API_KEY}, timeout=5)

    assert response.status_code == 404
    assert "error" in response.json()


def test_it_binds_only_to_loopback():
    with pytest.raises(ValueError, match="loopback"):
        CloudZeroEmulator(host="0.0.0.0")


def test_the_cli_serves_until_interrupted():
    process = subprocess.Popen(
        [sys.executable, str(EMULATOR_SCRIPT), "--port", "0", "--api-key", "cli-key"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        base_url = process.stdout.readline().strip()
        assert base_url.startswith("http://127.0.0.1:")
        response = requests.get(
            f"{base_url}{API}/{CONNECTION}/billing_drops", headers={"Authorization": "cli-key"}, timeout=5
        )
        assert response.json() == {"billing_drops": []}
    finally:
        process.terminate()
        assert process.wait(timeout=5) == 0
