"""What the AnyCost API accepts and rejects, over HTTP: auth, endpoint shapes, operations, validation,
limits, idempotency keys and sandbox namespaces."""

import json
import uuid

import pytest
import requests

from local_stack.cloudzero import CloudZeroEmulator
from local_stack.cloudzero.rules import MonthLimits
from tests.integration.cloudzero_emulator.calls import (
    API,
    API_KEY,
    CONNECTION,
    OTHER_CONNECTION,
    accounts,
    credit,
    drop,
    get,
    post,
)

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


def test_a_month_holds_at_most_its_rows_and_bytes_and_a_drop_beyond_them_changes_nothing():
    with CloudZeroEmulator(api_key=API_KEY, month_limits=MonthLimits(rows=3, bytes=100_000)) as small:
        assert post(small, drop([credit(f"{index:012d}") for index in range(3)])).status_code == 200

        beyond = post(small, drop([credit("000000000099")], operation="sum"))

        assert beyond.status_code == 400
        assert "4 rows, more than the 3" in beyond.json()["error"]["message"]
        assert len(small.month_rows(CONNECTION, "2026-01")) == 3
        # A replace_drop starts the month again: its own rows are what count.
        assert post(small, drop([credit("000000000099")])).status_code == 200

    with CloudZeroEmulator(api_key=API_KEY, month_limits=MonthLimits(rows=100, bytes=1_000)) as small:
        first = drop([credit(f"{index:012d}") for index in range(4)])
        assert len(json.dumps(first)) < 1_000
        assert post(small, first).status_code == 200

        second = post(small, drop([credit(f"{index:012d}") for index in range(4, 8)], operation="sum"))

        assert second.status_code == 400
        assert "bytes of billing drops, more than the 1000" in second.json()["error"]["message"]
        assert accounts(small.month_rows(CONNECTION, "2026-01")) == [f"{index:012d}" for index in range(4)]


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
