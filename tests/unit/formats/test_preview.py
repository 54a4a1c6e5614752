"""scripts/preview.py: what the pipeline would decide for a local file, through the pipeline's functions."""

import json
from pathlib import Path

import pytest

from credits_pipeline.domain.cbf import MonthLimit
from credits_pipeline.formats import ParseConfig
from operator_commands import preview
from tests.unit.formats.helpers import fixture


def run(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    code = preview.main([str(arg) for arg in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_preview_prints_format_months_totals_and_skips(capsys):
    code, out, _ = run(capsys, fixture("headerless/credits-2026-01.csv"))
    assert code == 0
    assert "headerless/1" in out
    assert "2026-01" in out
    assert "-124061.79" in out
    assert "duplicate of line 1" in out
    assert "zero amount" in out


def test_preview_explains_the_amount_column_and_sign(capsys):
    code, out, _ = run(capsys, fixture("focus/focus_1.0_sample_subset.csv"))
    assert code == 0
    assert "focus/1.0" in out
    assert "BilledCost" in out
    assert "ignored: Usage 7, Adjustment 2" in out


def test_preview_cbf_prints_the_rows_and_drops_the_pusher_would_send(capsys):
    code, out, _ = run(capsys, fixture("cur2/cur2-2025-01.parquet"), "--cbf")
    assert code == 0
    assert "CBF 2025-01: replace_drop (3 rows" in out
    rows = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert {row["cost/cost"] for row in rows} == {"-2.00", "-100.123456789012", "-20"}
    assert {row["lineitem/type"] for row in rows} == {"Credit"}


def test_preview_json_is_one_document(capsys):
    code, out, _ = run(capsys, fixture("allocation/credit-allocation.json"), "--json", "--cbf")
    document = json.loads(out)
    assert code == 0
    assert document["format"] == "aws-credit-allocation/1"
    assert document["months"]["2025-03"]["total"] == "-1150.75"
    assert document["months"]["2025-04"]["drops"][0]["operation"] == "replace_drop"
    assert document["notes"]


def test_preview_uses_the_name_for_the_month(capsys):
    code, out, _ = run(
        capsys, fixture("headerless/credits-2026-01.csv"), "--name", "incoming/credits-2025-07.csv", "--json"
    )
    assert code == 0
    assert list(json.loads(out)["months"]) == ["2025-07"]


def test_preview_exits_non_zero_with_the_rejection_reason(capsys):
    code, out, _ = run(capsys, fixture("rejections/scientific-ids-2026-01.csv"))
    assert code == 1
    assert "REJECTED" in out
    assert "scientific notation" in out
    assert "nothing would be sent" in out


def test_preview_takes_the_configuration_options(capsys):
    code, out, _ = run(
        capsys,
        fixture("rejections/scientific-ids-2026-01.csv"),
        "--max-invalid-share",
        "0.9",
        "--known-accounts",
        "123456789012",
        "--json",
    )
    document = json.loads(out)
    assert code == 0
    assert document["skipped_by_reason"] == {"invalid": 3, "unknown_account": 1}
    assert document["total"] == "-10.00"


def test_preview_reads_column_mappings_and_refuses_bad_ones(capsys, tmp_path):
    code, out, _ = run(capsys, fixture("mapping/acme-credits.csv"), "--mappings", fixture("mapping/acme-mapping.json"))
    assert code == 0
    assert "acme-sheet/1" in out
    bad = tmp_path / "bad.json"
    bad.write_text('[{"id": "x/1"}]')
    code, _, err = run(capsys, fixture("mapping/acme-credits.csv"), "--mappings", bad)
    assert code == 2
    assert "column mapping #1" in err


def test_preview_of_a_missing_file_is_a_usage_error(capsys, tmp_path):
    code, _, err = run(capsys, tmp_path / "nope.csv")
    assert code == 2
    assert "no such file" in err


def test_preview_rejects_a_bad_share(capsys):
    with pytest.raises(SystemExit):
        preview.main([str(fixture("headerless/credits-2026-01.csv")), "--max-invalid-share", "2"])


def test_preview_lists_padded_account_ids_and_can_refuse_them(capsys, tmp_path):
    path = tmp_path / "credits-2026-02.csv"
    path.write_bytes(b"12345678901,$10.00\n000000000002,$20.50\n")

    code, out, _ = run(capsys, path)
    assert code == 0
    assert "padded 1 account ids" in out
    assert "012345678901" in out

    code, out, _ = run(capsys, path, "--account-id-padding", "refuse", "--max-invalid-share", "0.5")
    assert code == 0
    assert "ACCOUNT_ID_PADDING=refuse" in out


@pytest.mark.parametrize(
    ("limit", "beyond"),
    [(MonthLimit(rows=1), "2 CloudZero rows"), (MonthLimit(bytes=200), "more than the 1,000,000 rows and 200 bytes")],
)
def test_preview_rejects_a_month_beyond_what_cloudzero_holds_as_the_splitter_does(
    tmp_path: Path, limit: MonthLimit, beyond: str
) -> None:
    path = tmp_path / "credits-2026-02.csv"
    path.write_bytes(b"111122223333,-10.00\n444455556666,-2.50\n")

    result = preview.preview(path, "incoming/credits-2026-02.csv", ParseConfig(), cbf=False, limit=limit)

    assert result["status"] == "rejected"
    assert result["format"] == "headerless/1"
    assert "2026-02 would be" in result["reason"] and beyond in result["reason"]
    assert "nothing was sent" in result["reason"] and "CLOUDZERO_MONTH_MAX_ROWS" in result["reason"]
    assert "nothing would be sent to CloudZero" in preview.render(result)
    # At the limit the month goes, as in the splitter.
    at_limit = preview.preview(path, "incoming/credits-2026-02.csv", ParseConfig(), cbf=True, limit=MonthLimit(rows=2))
    assert at_limit["status"] == "accepted"
    assert at_limit["months"]["2026-02"]["total"] == "-12.50"
    assert [drop["rows"] for drop in at_limit["months"]["2026-02"]["drops"]] == [2]
