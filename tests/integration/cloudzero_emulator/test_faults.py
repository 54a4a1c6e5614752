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
