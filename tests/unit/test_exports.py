"""Which keys belong to a multi-file export, what its manifest names, and how its parts add up."""

import io
import itertools
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from credits_pipeline.domain.credits import CreditFile, merge_parts
from credits_pipeline.domain.exports import ExportKey, ManifestInvalid, export_key, manifest_parts
from credits_pipeline.formats import ParseConfig, read_credit_file
from tests.export_builders import credit_total, cur2_part, manifest, month_rows


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        (
            "incoming/x/cur2/data/BILLING_PERIOD=2026-01/cur2-00001.csv.gz",
            ExportKey("incoming/x/cur2/metadata/BILLING_PERIOD=2026-01/cur2-Manifest.json", "2026-01", False),
        ),
        (
            "incoming/x/cur2/data/BILLING_PERIOD=2026-01/cur2-00001.snappy.parquet",
            ExportKey("incoming/x/cur2/metadata/BILLING_PERIOD=2026-01/cur2-Manifest.json", "2026-01", False),
        ),
        (
            "incoming/x/cur2/metadata/BILLING_PERIOD=2026-01/cur2-Manifest.json",
            ExportKey("incoming/x/cur2/metadata/BILLING_PERIOD=2026-01/cur2-Manifest.json", "2026-01", True),
        ),
        (
            "incoming/cur/kw/20260101-20260201/4f2a-assembly/kw-1.csv.gz",
            ExportKey("incoming/cur/kw/20260101-20260201/kw-Manifest.json", "2026-01", False),
        ),
        (
            "incoming/cur/kw/20260101-20260201/kw-Manifest.json",
            ExportKey("incoming/cur/kw/20260101-20260201/kw-Manifest.json", "2026-01", True),
        ),
        (  # the assembly's copy of the manifest: taken as a part (never read as a credits file)
            "incoming/cur/kw/20260101-20260201/4f2a-assembly/kw-Manifest.json",
            ExportKey("incoming/cur/kw/20260101-20260201/kw-Manifest.json", "2026-01", False),
        ),
    ],
)
def test_export_parts_and_manifests_are_recognised_by_their_keys(key: str, expected: ExportKey) -> None:
    assert export_key(key) == expected


@pytest.mark.parametrize(
    "key",
    [
        "incoming/credits-2026-01.csv",
        "incoming/cur-2024-09.csv.gz",
        "incoming/x/cur2/data/BILLING_PERIOD=1999-01/cur2-00001.csv.gz",  # outside 2000-2099
        "incoming/x/cur2/metadata/BILLING_PERIOD=2026-01/other-Manifest.json",  # not this export's manifest
    ],
)
def test_other_keys_are_plain_single_files(key: str) -> None:
    assert export_key(key) is None


def test_a_data_export_manifest_names_its_parts_by_uri() -> None:
    parts = manifest_parts(manifest("bucket", "2026-01", parts=2), "bucket")
    assert [key.rsplit("-", 1)[-1] for _, key in parts] == ["00001.csv.gz", "00002.csv.gz"]


def test_a_legacy_cur_manifest_names_its_parts_by_key() -> None:
    raw = b'{"bucket": "cur-bucket", "reportKeys": ["p/kw/20260101-20260201/a/kw-1.csv.gz"]}'
    assert manifest_parts(raw, "upload-bucket") == [("cur-bucket", "p/kw/20260101-20260201/a/kw-1.csv.gz")]


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"not json", "not JSON"),
        (b"[]", "not a JSON object"),
        (b"{}", "lists no parts"),
        (b'{"dataFiles": []}', "lists no parts"),
        (b'{"dataFiles": ["http://x/y"]}', "not an s3:// URI"),
        (b'{"reportKeys": ["a", "a"]}', "a part twice"),
    ],
)
def test_an_unusable_manifest_says_why(raw: bytes, reason: str) -> None:
    with pytest.raises(ManifestInvalid, match=reason):
        manifest_parts(raw, "bucket")


PART = ParseConfig(part_of_export=True)  # a part may hold no credits at all


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), cuts=st.lists(st.integers(1, 199), max_size=5, unique=True))
def test_any_split_of_a_month_into_parts_lands_as_the_whole_month_to_the_cent(seed: int, cuts: list[int]) -> None:
    rows = month_rows(seed, accounts=12, rows=200)
    bounds = [0, *sorted(cuts), len(rows)]
    pieces = [rows[start:end] for start, end in itertools.pairwise(bounds) if end > start]
    parts = [
        (f"part-{n}", read_credit_file(io.BytesIO(cur2_part("2026-01", piece)), f"part-{n}.csv.gz", PART))
        for n, piece in enumerate(pieces)
    ]
    whole = read_credit_file(io.BytesIO(cur2_part("2026-01", rows)), "whole.csv.gz", ParseConfig())

    merged = merge_parts(parts)

    def by_account(credit_file: CreditFile) -> dict[tuple[str, str, str], Decimal]:
        return {(c.account_id, c.service, c.description): c.cost for c in credit_file.months["2026-01"].credits}

    assert by_account(merged) == by_account(whole)
    assert merged.total == whole.total == credit_total(rows)
    assert merged.credit_rows == whole.credit_rows


def test_parts_of_different_formats_are_refused() -> None:
    cur = read_credit_file(io.BytesIO(cur2_part("2026-01", month_rows(1))), "a.csv.gz", ParseConfig())
    headerless = read_credit_file(io.BytesIO(b"000000000001,$1.00\n"), "credits-2026-01.csv", ParseConfig())
    with pytest.raises(ValueError, match="different formats"):
        merge_parts([("a", cur), ("b", headerless)])
