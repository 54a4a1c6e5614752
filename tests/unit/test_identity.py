"""Every stored or sent key, pinned to a literal: a changed scheme orphans the records written before it."""

import hashlib
from dataclasses import dataclass

from credits_pipeline.domain.identity import (
    batch_key,
    chunk_key,
    dead_letter_dedup_id,
    delivery_id,
    drop_request_key,
    export_identity,
    file_identity,
    month_message_dedup_id,
    push_key,
    report_key,
    reupload_replay_id,
    unreadable_dedup_id,
)

CONTENT = "ab" * 32


def test_a_key_without_a_month_is_known_by_its_bytes_alone() -> None:
    assert file_identity(CONTENT, "incoming/cur-export.csv.gz") == CONTENT


def test_a_month_named_in_the_file_name_or_in_a_folder_binds_the_identity_alike() -> None:
    bound = hashlib.sha256(f"{CONTENT}|2026-01".encode()).hexdigest()
    assert file_identity(CONTENT, "incoming/credits-2026-01.csv") == bound
    assert file_identity(CONTENT, "incoming/2026-01/credits.csv") == bound
    assert file_identity(CONTENT, "incoming/2026-02/credits.csv") != bound


def test_a_back_fill_range_binds_both_months() -> None:
    both = hashlib.sha256(f"{CONTENT}|2025-01,2025-12".encode()).hexdigest()
    assert file_identity(CONTENT, "incoming/credits-2025-01_2025-12.csv") == both


def test_storage_keys() -> None:
    assert batch_key("f" * 64, "2026-01") == f"batches/{'f' * 64}/2026-01.json"
    assert chunk_key("f" * 64, "2026-01", 0) == f"batches/{'f' * 64}/2026-01/chunk-0000.json"
    assert chunk_key("f" * 64, "2026-01", 12) == f"batches/{'f' * 64}/2026-01/chunk-0012.json"
    assert report_key("f" * 64) == f"reports/{'f' * 64}.json"


def test_push_and_queue_keys() -> None:
    sha = "f" * 64
    assert push_key(sha, "2026-01") == f"{sha}#2026-01#upload"
    assert push_key(sha, "2026-01", "r1") == f"{sha}#2026-01#r1"
    assert month_message_dedup_id(sha, "2026-01") == f"{sha}-2026-01"
    assert month_message_dedup_id(sha, "2026-01", "r1") == f"{sha}-2026-01-replay-r1"
    assert dead_letter_dedup_id(push_key(sha, "2026-01"), "m:2") == f"{sha}#2026-01#upload-final-m:2"
    assert unreadable_dedup_id("m:1") == "unreadable-m:1"
    assert delivery_id("m", "3") == "m:3"


def test_the_cloudzero_request_key_changes_with_each_part_it_names() -> None:
    key = drop_request_key("conn", "2026-01", 0, "b" * 64, delivery="m:1", generation=0)
    assert key == hashlib.sha256(f"conn|2026-01|0|{'b' * 64}|m:1|0".encode()).hexdigest()
    assert drop_request_key("conn", "2026-01", 0, "b" * 64, delivery="m:1", generation=1) != key
    assert drop_request_key("conn", "2026-01", 1, "b" * 64, delivery="m:1", generation=0) != key
    assert drop_request_key("conn", "2026-01", 0, "b" * 64, delivery="m:2", generation=0) != key


def test_an_export_is_known_by_its_manifest_and_its_parts_as_stored_whatever_their_order() -> None:
    @dataclass(frozen=True)
    class Part:
        etag: str
        size: int

    parts = {("b", "incoming/x/data/p2.csv.gz"): Part("e2", 20), ("b", "incoming/x/data/p1.csv.gz"): Part("e1", 10)}
    expected = "1f723596c1ecbe93417f657e0b48a722b97629de160c787266abfc8b8d954b77"
    assert export_identity("a" * 64, parts) == expected
    assert export_identity("a" * 64, dict(reversed(list(parts.items())))) == expected


def test_a_push_again_after_a_reupload_is_named_by_the_upload() -> None:
    assert reupload_replay_id("bucket/incoming/credits-2026-01.csv#v1@2026-02-01T00:00:00.000Z") == (
        "reupload-7b8576af13474482b0a4a0fd1e268ee4"
    )
