"""The emulator's HTTP side: the admin API, unknown paths, loopback only, request bodies, the command line."""

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from local_stack.cloudzero import CloudZeroEmulator
from tests.integration.cloudzero_emulator.calls import API, API_KEY, CONNECTION, credit, drop, get, post

EMULATOR_SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "local_stack" / "cloudzero"


# --- admin API ----------------------------------------------------------------------------------------------


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


def test_chunked_and_compressed_bodies_are_read_and_the_limit_counts_uncompressed_bytes():
    with CloudZeroEmulator(api_key=API_KEY, max_body_bytes=2_000) as small:
        url = f"{small.base_url}{API}/{CONNECTION}/billing_drops"
        body = json.dumps(drop([credit("073933415963")])).encode()
        gzipped = {"Authorization": API_KEY, "Content-Encoding": "gzip"}

        chunked = requests.post(url, data=iter([body[:20], body[20:]]), headers={"Authorization": API_KEY}, timeout=5)
        compressed = requests.post(
            url, data=gzip.compress(json.dumps(drop([credit("1")], "sum")).encode()), headers=gzipped, timeout=5
        )
        inflated = requests.post(url, data=gzip.compress(body[:-1] + b" " * 2_000 + b"}"), headers=gzipped, timeout=5)

        assert (chunked.status_code, compressed.status_code, inflated.status_code) == (200, 200, 413)
        assert sorted(row["resource/account"] for row in small.month_rows(CONNECTION, "2026-01")) == [
            "073933415963",
            "1",
        ]


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


CLI_CONNECTIONS = ("--connection-id", CONNECTION, "--connection-id", "second")


def test_the_cli_knows_the_connections_it_is_given_and_no_other():
    process = subprocess.Popen(
        [sys.executable, str(EMULATOR_SCRIPT), "--port", "0", "--api-key", "cli-key", *CLI_CONNECTIONS],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        base_url = process.stdout.readline().strip()
        statuses = {
            connection: requests.get(
                f"{base_url}/v2/connections/billing/{connection}", headers={"Authorization": "cli-key"}, timeout=5
            ).status_code
            for connection in (CONNECTION, "second", "third")
        }
        assert statuses == {CONNECTION: 200, "second": 200, "third": 404}
    finally:
        process.terminate()
        assert process.wait(timeout=5) == 0
