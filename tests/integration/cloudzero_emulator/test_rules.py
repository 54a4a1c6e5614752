"""What the AnyCost API accepts and rejects, over HTTP: auth, endpoint shapes, operations, validation,
limits, idempotency keys and sandbox namespaces."""

import json
import uuid
from urllib.parse import quote

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


# --- what the API reference states, held to the letter ----------------------------------------------------


# Reference: "The key is scoped to path and method only and is checked before anything else" and "the first
# response to a key is cached and replayed for every later request with that key, successes and errors alike".
def test_a_403_is_cached_under_its_key_because_the_key_is_checked_before_auth(emulator: CloudZeroEmulator) -> None:
    refused = post(emulator, drop([credit("073933415963")]), key="k-403", auth="wrong-key")

    again = post(emulator, drop([credit("073933415963")]), key="k-403", auth=API_KEY)

    assert refused.status_code == 403
    assert again.status_code == 403
    assert again.json() == refused.json()
    assert [request.replayed for request in emulator.requests] == [False, True]
    assert emulator.drops() == []
    assert post(emulator, drop([credit("073933415963")]), key="k-403-attempt-1").status_code == 200


# Reference: "The key is scoped to path and method only".
def test_an_idempotency_key_is_scoped_to_path_and_method_not_to_the_test_key(emulator: CloudZeroEmulator) -> None:
    sandboxed = post(emulator, drop([credit("999999999999")]), key="k-shared", test_key="smoke-1")

    live = post(emulator, drop([credit("073933415963")]), key="k-shared")

    assert live.status_code == 200
    assert live.json() == sandboxed.json()
    assert emulator.month_rows(CONNECTION, "2026-01") == []
    assert [d.test_key for d in emulator.drops()] == ["smoke-1"]


def test_an_idempotency_key_replays_only_for_the_same_method(emulator: CloudZeroEmulator) -> None:
    post(emulator, drop([credit("073933415963")]), key="k-method")

    read = requests.get(
        f"{emulator.base_url}{API}/{CONNECTION}/billing_drops",
        headers={"Authorization": API_KEY, "cloudzero-idempotency-key": "k-method"},
        timeout=5,
    )

    assert read.status_code == 200
    assert [listed["row_count"] for listed in read.json()["billing_drops"]] == [1]


# Reference: "Every value is a JSON string. Numbers are plain decimal strings" (the schema's `^\d+(\.\d{1,})?$`
# and `YYYY-MM-DDTHH:MM:SS[.f][Z|+hh:mm]`): the whole value, in ASCII digits.
@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (drop([credit("1", "-100.00\n")]), "cost/cost"),
        (drop([credit("1", "-\u0661\u0660\u0660")]), "cost/cost"),
        (drop([credit("1", "-\uff11\uff10\uff10.00")]), "cost/cost"),
        (drop([credit("1", " -100.00")]), "cost/cost"),
        (drop([{**credit("1"), "usage/amount": "1\n"}]), "usage/amount"),
        (drop([{**credit("1"), "cost/amortized_cost": "\u0663"}]), "cost/amortized_cost"),
        (drop([credit("1")], month="2026-01-01T00:00:00Z\n"), "month"),
        (drop([credit("1")], month="\u0662\u0660\u0662\u0666-01-01T00:00:00Z"), "month"),
        (drop([credit("1")], month="2026-01-01T00:00:00+01:00\n"), "month"),
        (drop([credit("1", start="2026-01-01T00:00:00Z\n")]), "time/usage_start"),
        (drop([credit("1", start="\u0662\u0660\u0662\u0666-01-01T00:00:00Z")]), "time/usage_start"),
    ],
)
def test_numbers_and_datetimes_must_be_whole_ascii_values(
    emulator: CloudZeroEmulator, body: dict[str, object], needle: str
) -> None:
    response = post(emulator, body)

    assert response.status_code == 400
    assert needle in response.json()["error"]["message"]
    assert emulator.drops() == []


@pytest.mark.parametrize("month", ["2026-01\n", "\u0662\u0660\u0662\u0666-01", "2026-01-01T00:00:00Z\n"])
def test_reading_a_month_not_written_in_ascii_digits_is_400(emulator: CloudZeroEmulator, month: str) -> None:
    post(emulator, drop([credit("073933415963")]))

    response = get(emulator, f"/{quote(month)}")

    assert response.status_code == 400
    assert isinstance(response.json()["error"]["message"], str)


# Reference: "Tag keys (`resource/tag:<key>`) allow letters, digits and `_ . : / = + - @` only, no spaces."
@pytest.mark.parametrize(
    "column",
    [
        "resource/tag:cost center",
        "resource/tag:team$",
        "resource/tag:team\n",
        "resource/tag:équipe",
        "resource/tag:team#1",
        "resource/tag:",
    ],
)
def test_a_tag_key_outside_letters_digits_and_the_allowed_marks_is_rejected(
    emulator: CloudZeroEmulator, column: str
) -> None:
    row = {**credit("073933415963"), "resource/id": "credit-073933415963", column: "platform"}

    response = post(emulator, drop([row]))

    assert response.status_code == 400
    assert "tag" in response.json()["error"]["message"]
    assert emulator.month_rows(CONNECTION, "2026-01") == []


def test_a_tag_key_of_letters_digits_and_every_allowed_mark_is_accepted(emulator: CloudZeroEmulator) -> None:
    row = {**credit("073933415963"), "resource/id": "credit-073933415963", "resource/tag:aws:Team/2=a+b-c_d.e@x": "p"}

    assert post(emulator, drop([row])).status_code == 200


# Reference: 400 answers `{"error": {"message": str, "type": str}}`; 5xx are retryable, so a malformed body
# must never be a 500: a client would send it again and again.
DEEP = 100_000
MALFORMED_BODIES = [
    pytest.param({"month": "2026-01-01T00:00:00Z", "operation": ["sum"], "data": [credit("1")]}, id="operation-list"),
    pytest.param({"month": "2026-01-01T00:00:00Z", "operation": {"op": "sum"}, "data": []}, id="operation-object"),
    pytest.param({"month": "2026-01-01T00:00:00Z", "operation": 1, "data": []}, id="operation-number"),
    pytest.param({"month": "2026-01-01T00:00:00Z", "operation": None, "data": []}, id="operation-null"),
    pytest.param({"month": ["2026-01-01T00:00:00Z"], "data": [credit("1")]}, id="month-list"),
    pytest.param({"month": {"y": 2026}, "data": [credit("1")]}, id="month-object"),
    pytest.param({"month": 202601, "data": [credit("1")]}, id="month-number"),
    pytest.param({"month": "2026-01-01T00:00:00Z", "data": "credits"}, id="data-string"),
    pytest.param({"month": "2026-01-01T00:00:00Z", "data": None}, id="data-null"),
    pytest.param({"month": "2026-01-01T00:00:00Z", "data": 3}, id="data-number"),
    pytest.param({"month": "2026-01-01T00:00:00Z", "data": [[credit("1")]]}, id="row-list"),
    pytest.param({"month": "2026-01-01T00:00:00Z", "data": ["row"]}, id="row-string"),
    pytest.param({"month": "2026-01-01T00:00:00Z", "data": [None]}, id="row-null"),
    pytest.param(drop([{**credit("1"), "cost/cost": {"amount": "-1"}}]), id="value-object"),
    pytest.param(drop([{**credit("1"), "time/usage_start": ["2026-01-01T00:00:00Z"]}]), id="value-list"),
    pytest.param(drop([{**credit("1"), "lineitem/type": None}]), id="value-null"),
    pytest.param(drop([{**credit("1"), "lineitem/type": ["Credit"]}]), id="line-type-list"),
    pytest.param(
        drop([credit("1", start="0001-01-01T00:00:00+01:00")], month="0001-01-01T00:00:00Z"), id="start-out-of-range"
    ),
    pytest.param(None, id="body-null"),
    pytest.param("a drop", id="body-string"),
    pytest.param(12, id="body-number"),
]


@pytest.mark.parametrize("body", MALFORMED_BODIES)
def test_a_malformed_body_is_a_400_with_the_error_body_never_a_500(emulator: CloudZeroEmulator, body: object) -> None:
    response = post(emulator, body)

    assert response.status_code == 400, response.text[:200]
    error = response.json()["error"]
    assert isinstance(error["message"], str)
    assert isinstance(error["type"], str)
    assert emulator.drops() == []


@pytest.mark.parametrize("body", MALFORMED_BODIES)
def test_validate_answers_a_malformed_body_as_invalid_never_a_500(emulator: CloudZeroEmulator, body: object) -> None:
    response = requests.post(
        f"{emulator.base_url}{API}/validate_billing_drop", json=body, headers={"Authorization": API_KEY}, timeout=5
    )

    assert response.status_code == 200, response.text[:200]
    assert response.json()["connection"]["is_valid"] is False


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b"[" * DEEP + b"]" * DEEP, id="nested-arrays"),
        pytest.param(
            b'{"month": "2026-01-01T00:00:00Z", "data": ' + b"[" * DEEP + b"]" * DEEP + b"}", id="nested-data"
        ),
        pytest.param(b'{"a": ' * DEEP + b"1" + b"}" * DEEP, id="nested-objects"),
    ],
)
def test_json_nested_too_deep_to_decode_is_a_400_not_a_500(emulator: CloudZeroEmulator, raw: bytes) -> None:
    response = requests.post(
        f"{emulator.base_url}{API}/{CONNECTION}/billing_drops", data=raw, headers={"Authorization": API_KEY}, timeout=5
    )

    assert response.status_code == 400
    assert "JSON" in response.json()["error"]["message"]


# Reference: "`time/usage_start` is snapped to the start of its hour; `time/usage_end` is ignored."
def test_a_month_holds_usage_start_snapped_to_its_hour_and_not_usage_end(emulator: CloudZeroEmulator) -> None:
    sent = [
        {**credit("000000000001", start="2026-01-01T00:30:00Z"), "time/usage_end": "2026-01-01T00:45:00Z"},
        credit("000000000002", start="2026-01-15T10:59:59.5+02:00"),
        credit("000000000003", start="2026-01-31T23:59:59"),
    ]

    assert post(emulator, drop(sent)).status_code == 200

    held = get(emulator, "/2026-01").json()["billing_drop"]
    assert [row["time/usage_start"] for row in held] == [
        "2026-01-01T00:00:00Z",
        "2026-01-15T08:00:00Z",
        "2026-01-31T23:00:00Z",
    ]
    assert all("time/usage_end" not in row for row in held)
    assert [row["cost/cost"] for row in held] == ["-100.00"] * 3
    assert emulator.month_rows(CONNECTION, "2026-01") == held
    assert emulator.drops()[0].rows == sent  # the drop's record keeps what was sent


def test_replace_hourly_replaces_a_held_row_by_its_snapped_hour(emulator: CloudZeroEmulator) -> None:
    post(emulator, drop([credit("000000000001", start="2026-01-01T01:10:00Z")]))

    post(emulator, drop([credit("000000000002", start="2026-01-01T01:50:00Z")], "replace_hourly"))

    assert get(emulator, "/2026-01").json()["billing_drop"] == [credit("000000000002", start="2026-01-01T01:00:00Z")]
