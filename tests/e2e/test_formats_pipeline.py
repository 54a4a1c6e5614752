"""Every file shape through the whole pipeline: detected, pushed, and money in == money out."""

import json
import uuid
from decimal import Decimal
from pathlib import Path

import boto3
import pytest

from local_stack.stack import LocalPipeline, local_pipeline

from .conftest import held_total, only_report, tags

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "formats"


def pushed_report(pipeline: LocalPipeline, fixture: str, key: str | None = None) -> dict[str, object]:
    source = FIXTURES / fixture
    pipeline.upload(source, key or f"incoming/{source.name}")
    pipeline.runner.run_until_idle()
    return only_report(pipeline)


@pytest.mark.parametrize(
    ("fixture", "format_id"),
    [
        ("cur-legacy/cur-2024-09.csv.gz", "aws-cur/1"),
        ("cur-legacy/cur-2024-09-multipart.zip", "aws-cur/1"),
        ("cur2/cur2-2025-01.parquet", "aws-cur/2"),
        ("focus/focus-1.2.csv", "focus/1.2"),
        ("focus/focus_1.0_sample_subset.csv", "focus/1.0"),
        ("allocation/credit-allocation.json", "aws-credit-allocation/1"),
        ("sheets/long.csv", "sheet-long/1"),
        ("sheets/wide.csv", "sheet-wide/1"),
        ("headerless/credits-2025-01_2025-03.csv", "headerless-wide/1"),
    ],
)
def test_each_format_lands_month_by_month_with_its_total(pipeline: LocalPipeline, fixture: str, format_id: str) -> None:
    run = pushed_report(pipeline, fixture)
    assert pipeline.emulator is not None
    months = run["months"]
    assert isinstance(months, dict) and months
    assert run["status"] == "pushed"
    assert run["file"]["format"] == format_id  # type: ignore[index]
    for month, month_report in months.items():
        # What CloudZero holds is what the report promised, to the cent, one replace_drop per month.
        assert held_total(pipeline, month) == Decimal(month_report["total"])
        assert month_report["status"] == "pushed"
    assert sorted(d.month for d in pipeline.emulator.drops()) == sorted(months)
    assert sum(Decimal(m["total"]) for m in months.values()) == Decimal(str(run["total"]))
    assert pipeline.emulator.concurrency_violations == []


@pytest.mark.parametrize(
    ("fixture", "reason"),
    [
        ("rejections/credit-balances.csv", "remaining"),
        ("rejections/unknown-shape.csv", "lineItem/LineItemType"),
        ("rejections/several-currencies.csv", "EUR"),
        ("rejections/workbook.xlsx", "xlsx"),
        ("rejections/scientific-ids-2026-01.csv", "invalid"),
    ],
)
def test_a_file_of_the_wrong_shape_is_rejected_with_the_reason(
    pipeline: LocalPipeline, fixture: str, reason: str
) -> None:
    run = pushed_report(pipeline, fixture)
    assert pipeline.emulator is not None
    assert run["status"] == "rejected"
    assert reason.lower() in str(run["error"]).lower()
    assert pipeline.emulator.requests == []
    assert tags(pipeline, f"incoming/{Path(fixture).name}")["credits-pipeline-status"] == "rejected"


def test_a_rejected_file_lists_its_first_problems_with_line_numbers(pipeline: LocalPipeline) -> None:
    run = pushed_report(pipeline, "rejections/thirteen-digit-ids-2026-01.csv")
    problems = run["problems"]
    assert run["status"] == "rejected"
    assert isinstance(problems, list) and problems
    assert all(str(problem).startswith("line ") or "more" in str(problem) for problem in problems)


def test_a_column_mapping_in_s3_reads_a_new_shape_without_a_code_change(aws_endpoint: str) -> None:
    config_bucket = f"credits-config-{uuid.uuid4().hex[:8]}"
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=config_bucket)
    mapping = (FIXTURES / "mapping" / "acme-mapping.json").read_bytes()
    s3.put_object(Bucket=config_bucket, Key="mappings.json", Body=mapping)

    with local_pipeline(
        stack_name=f"e2e-{uuid.uuid4().hex[:8]}",
        parameters={"ColumnMappingsUri": f"s3://{config_bucket}/mappings.json"},
    ) as pipeline:
        run = pushed_report(pipeline, "mapping/acme-credits.csv")
        assert run["status"] == "pushed"
        assert run["file"]["format"] == json.loads(mapping)[0]["id"]  # type: ignore[index]
        for month, month_report in run["months"].items():  # type: ignore[attr-defined]
            assert held_total(pipeline, month) == Decimal(month_report["total"])
