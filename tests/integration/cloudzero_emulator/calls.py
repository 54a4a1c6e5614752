"""What a client of the AnyCost API sends and reads, as plain HTTP calls against the emulator."""

from collections.abc import Mapping, Sequence

import requests

from local_stack.cloudzero import CloudZeroEmulator

API_KEY = "test-api-key"
CONNECTION = "3f2a9c1e-0b7d-4e5f-9a8b-1c2d3e4f5a6b"
OTHER_CONNECTION = "7d6c5b4a-3e2f-4a1b-8c9d-0e1f2a3b4c5d"
API = "/v2/connections/billing/anycost"


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
