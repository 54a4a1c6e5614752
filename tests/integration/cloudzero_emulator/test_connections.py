"""A connection's health read, and an account whose connections are known: any other id is a 404."""

from collections.abc import Iterator

import pytest
import requests

from local_stack.cloudzero import CloudZeroEmulator
from tests.integration.cloudzero_emulator.calls import API_KEY, CONNECTION, OTHER_CONNECTION, credit, drop, get, post

HEALTH = "/v2/connections/billing"


@pytest.fixture(scope="module")
def running_account() -> Iterator[CloudZeroEmulator]:
    with CloudZeroEmulator(api_key=API_KEY, connections=[CONNECTION]) as emulator:
        yield emulator


@pytest.fixture
def account(running_account: CloudZeroEmulator) -> CloudZeroEmulator:
    """An emulator whose account has one connection, CONNECTION."""
    running_account.reset()
    return running_account


def health(
    emulator: CloudZeroEmulator, connection: str = CONNECTION, *, auth: str = API_KEY, key: str | None = None
) -> requests.Response:
    headers = {"Authorization": auth}
    if key is not None:
        headers["cloudzero-idempotency-key"] = key
    return requests.get(f"{emulator.base_url}{HEALTH}/{connection}", headers=headers, timeout=5)


def not_found(response: requests.Response, connection: str) -> bool:
    body = response.json()
    return (
        response.status_code == 404
        and set(body) == {"error"}
        and body["error"]["type"] == "NotFound"
        and connection in body["error"]["message"]
    )


# --- the health read ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["known", "any id"])
def test_the_health_read_answers_a_known_connection_with_its_record(
    account: CloudZeroEmulator, emulator: CloudZeroEmulator, which: str
) -> None:
    served = account if which == "known" else emulator  # `emulator` takes every id as a connection

    response = health(served)

    assert response.status_code == 200
    assert response.json() == {"connection": {"id": CONNECTION, "type": "anycost"}}
    [record] = served.requests
    assert (record.method, record.connection_id, record.status) == ("GET", CONNECTION, 200)
    assert served.drops() == []


def test_the_health_read_of_an_unknown_connection_is_404_with_the_documented_error_body(
    account: CloudZeroEmulator,
) -> None:
    response = health(account, OTHER_CONNECTION)

    assert not_found(response, OTHER_CONNECTION), response.text
    assert [record.status for record in account.requests] == [404]


@pytest.mark.parametrize("auth", ["wrong-key", f"Bearer {API_KEY}"])
def test_the_health_read_with_a_wrong_key_is_403_even_for_an_unknown_connection(
    account: CloudZeroEmulator, auth: str
) -> None:
    for connection in (CONNECTION, OTHER_CONNECTION):
        response = health(account, connection, auth=auth)
        assert response.status_code == 403
        assert set(response.json()) == {"message"}


def test_the_health_read_replays_the_first_answer_to_its_idempotency_key(account: CloudZeroEmulator) -> None:
    assert health(account, auth="wrong-key", key="k1").status_code == 403
    replayed = health(account, key="k1")

    assert replayed.status_code == 403
    assert [record.replayed for record in account.requests] == [False, True]
    assert health(account, key="k2").status_code == 200


def test_only_faults_on_any_request_reach_the_health_read(account: CloudZeroEmulator) -> None:
    account.inject_fault(503, path="billing_drops")
    assert health(account).status_code == 200

    account.clear_faults()
    account.inject_fault(503, path="any")
    assert health(account).status_code == 503
    assert health(account).status_code == 200


def test_the_anycost_prefix_is_no_connection(emulator: CloudZeroEmulator) -> None:
    response = health(emulator, "anycost")

    assert response.status_code == 404
    assert "no route" in response.json()["error"]["message"]


# --- an unknown connection on the AnyCost routes --------------------------------------------------------------


def test_a_drop_to_an_unknown_connection_is_404_and_writes_nothing(account: CloudZeroEmulator) -> None:
    account.inject_fault(503, path="any")  # an unknown connection is refused before any fault

    refused = post(account, drop([credit("073933415963")]), connection=OTHER_CONNECTION, key="drop-1")

    assert not_found(refused, OTHER_CONNECTION), refused.text
    assert account.drops() == []
    assert account.state()["months"] == []
    assert account.month_rows(OTHER_CONNECTION, "2026-01") == []
    assert len(account.faults()) == 1  # untouched
    again = post(account, drop([credit("073933415963")]), connection=OTHER_CONNECTION, key="drop-1")
    assert not_found(again, OTHER_CONNECTION) and account.requests[-1].replayed
    assert account.drops() == []


def test_reads_of_an_unknown_connection_are_404(account: CloudZeroEmulator) -> None:
    assert not_found(get(account, connection=OTHER_CONNECTION), OTHER_CONNECTION)
    assert not_found(get(account, "/2026-01", connection=OTHER_CONNECTION), OTHER_CONNECTION)


def test_a_known_connection_is_served_as_ever(account: CloudZeroEmulator) -> None:
    assert post(account, drop([credit("073933415963")])).status_code == 200
    assert [entry["row_count"] for entry in get(account).json()["billing_drops"]] == [1]
    assert get(account, "/2026-01").status_code == 200
    assert [drop.connection_id for drop in account.drops()] == [CONNECTION]


def test_validate_has_no_connection_and_is_served_whatever_the_account_holds() -> None:
    with CloudZeroEmulator(api_key=API_KEY, connections=[]) as empty:
        response = requests.post(
            f"{empty.base_url}{HEALTH}/anycost/validate_billing_drop",
            json=drop([credit("1")]),
            headers={"Authorization": API_KEY},
            timeout=5,
        )
        assert response.json() == {"connection": {"is_valid": True, "errors": []}}
        assert health(empty).status_code == 404


def test_connections_are_ids_not_one_id() -> None:
    with pytest.raises(TypeError, match="iterable of connection ids"):
        CloudZeroEmulator(connections=CONNECTION)
