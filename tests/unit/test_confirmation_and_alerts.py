"""Every pushed month is read back from CloudZero; every outcome that needs a person sends one readable alert."""

import json
from decimal import Decimal

import pytest

from credits_pipeline.adapters.cloudzero import AnyCostClient
from credits_pipeline.domain.messages import MonthMessage
from credits_pipeline.services.ports import CloudZeroRejected, CloudZeroUnavailable
from tests.fakes import BUCKET, World

FEBRUARY = b"000000000001,$10.00\n000000000002,$20.50\n"
KEY = "incoming/credits-2026-02.csv"


def uploaded(world: World, data: bytes = FEBRUARY) -> str:
    world.upload(KEY, data)
    return world.queue.sent[-1].body


def sha_of(body: str) -> str:
    return MonthMessage.model_validate_json(body).file.sha256


def test_a_pushed_month_is_read_back_and_marked_verified() -> None:
    world = World()
    body = uploaded(world)
    world.deliver(body)

    month = world.report(sha_of(body)).months["2026-02"]
    assert (month.status, month.verified, month.differences) == ("pushed", True, [])
    assert month.verified_at is not None
    assert world.notifier.alerts == []  # nothing needs a person


def pushed_while_cloudzero_holds_the_first_cost_as(cost: str) -> tuple[World, str]:
    """A month pushed and read back, CloudZero answering `cost` for its first row."""
    world = World()
    body = uploaded(world)

    def first_cost_changed(rows: list[dict[str, str]]) -> list[dict[str, str]]:
        rows[0]["cost/cost"] = cost
        return rows

    world.cloudzero.drift = first_cost_changed
    world.deliver(body)
    return world, body


def test_a_month_cloudzero_holds_differently_is_unverified_listed_and_alerted_once() -> None:
    world, body = pushed_while_cloudzero_holds_the_first_cost_as("-1.00")

    report = world.report(sha_of(body))
    month = report.months["2026-02"]
    assert (month.status, month.verified) == ("unverified", False)
    assert [(d.account_id, d.sent, d.held) for d in month.differences] == [
        ("000000000001", Decimal("-10.00"), Decimal("-1.00"))
    ]
    assert report.status == "failed"
    [alert] = world.notifier.alerts
    assert alert.kind == "month_unverified"
    assert alert.months == ["2026-02"]
    assert "scripts/verify.py --month 2026-02" in alert.fix
    assert f"s3://{BUCKET}/{KEY}" in alert.text()


def test_a_cost_cloudzero_holds_that_is_not_a_number_is_recorded_unverified_and_alerted() -> None:
    world, body = pushed_while_cloudzero_holds_the_first_cost_as("n/a")

    report = world.report(sha_of(body))
    month = report.months["2026-02"]
    assert (month.status, month.verified) == ("unverified", False)
    [difference] = month.differences
    assert (difference.account_id, difference.sent, difference.held.is_nan()) == (
        "000000000001",
        Decimal("-10.00"),
        True,
    )
    assert "held a cost that is not a number" in (month.error or "")
    assert type(report).model_validate_json(report.model_dump_json()).months["2026-02"].differences[0].held.is_nan()
    assert [alert.kind for alert in world.notifier.alerts] == ["month_unverified"]


def test_a_month_pushed_but_never_read_back_tells_a_person_on_the_last_delivery() -> None:
    world = World()
    body = uploaded(world)
    world.cloudzero.read_failures = [CloudZeroUnavailable("CloudZero went away")] * 5

    for attempt in range(1, 6):
        with pytest.raises(CloudZeroUnavailable):
            world.deliver(body, f"message-1:{attempt}", last_attempt=attempt == 5)
        assert world.notifier.kinds() == ([] if attempt < 5 else ["month_not_read_back"])

    [alert] = world.notifier.alerts
    assert alert.months == ["2026-02"]
    assert "scripts/verify.py --month 2026-02" in alert.fix
    assert len(world.cloudzero.calls) == 1  # sent once; only the read-back was tried again
    month = world.report(sha_of(body)).months["2026-02"]
    assert (month.status, month.verified) == ("pushed", None)


def test_a_lost_row_is_caught_by_the_row_count() -> None:
    world = World()
    body = uploaded(world)
    world.cloudzero.drift = lambda rows: rows[1:]
    world.deliver(body)
    month = world.report(sha_of(body)).months["2026-02"]
    assert (month.status, month.verified) == ("unverified", False)
    assert "1 rows" in (month.error or "") and "2 rows" in (month.error or "")


def test_a_read_back_that_cannot_be_made_is_retried_never_reported_verified() -> None:
    world = World()
    body = uploaded(world)
    world.cloudzero.read_failures.append(CloudZeroUnavailable("CloudZero went away"))

    with pytest.raises(CloudZeroUnavailable):
        world.deliver(body)
    month = world.report(sha_of(body)).months["2026-02"]
    assert (month.status, month.verified) == ("pushed", None)
    assert "not yet read back" in (month.error or "")

    assert world.deliver(body, delivery_id="delivery-2").status == "already_pushed"
    assert len(world.cloudzero.drops) == 1  # the redelivery sent nothing again
    month = world.report(sha_of(body)).months["2026-02"]
    assert (month.status, month.verified, month.error) == ("pushed", True, None)


def test_a_rejected_file_sends_one_alert_with_the_reason_the_report_and_the_fix() -> None:
    world = World()
    report = world.upload("incoming/credits-2026-02.csv", b"not,a,credit,file\n")

    [alert] = world.notifier.alerts
    assert alert.kind == "file_rejected"
    assert alert.file == f"s3://{BUCKET}/incoming/credits-2026-02.csv"
    assert alert.report == f"s3://{BUCKET}/reports/{report.file.sha256}.json"
    assert "scripts/reprocess.py --key incoming/credits-2026-02.csv --stack-name credits-pipeline" in alert.fix
    assert alert.reason


def test_a_rejected_files_alert_says_to_upload_again_where_the_stack_reads_uploads() -> None:
    world = World()
    world.splitter.incoming_prefix = "credits/in/"
    world.upload("credits/in/credits-2026-02.csv", b"not,a,credit,file\n")

    [alert] = world.notifier.alerts
    assert f"upload it again under s3://{BUCKET}/credits/in/;" in alert.fix
    assert "incoming/" not in alert.fix


def test_a_final_refusal_alerts_that_the_month_waits_in_the_dlq() -> None:
    world = World()
    body = uploaded(world)
    world.cloudzero.fail_next(CloudZeroRejected(400, "data[0] is invalid"))
    world.deliver(body)

    [alert] = world.notifier.alerts
    assert (alert.kind, alert.months) == ("month_failed", ["2026-02"])
    assert "data[0] is invalid" in alert.reason
    assert "scripts/redrive.py --stack-name credits-pipeline" in alert.fix


def test_a_refused_api_key_says_how_to_store_a_new_one() -> None:
    world = World()
    body = uploaded(world)
    world.cloudzero.fail_next(CloudZeroRejected(403, "forbidden"))
    world.deliver(body)

    [alert] = world.notifier.alerts
    assert alert.kind == "api_key_refused"
    assert "aws secretsmanager put-secret-value" in alert.fix


def test_only_the_last_delivery_of_a_failing_month_alerts() -> None:
    world = World()
    body = uploaded(world)
    world.cloudzero.fail_next(CloudZeroUnavailable("503 again"), times=2)
    with pytest.raises(CloudZeroUnavailable):
        world.deliver(body, delivery_id="m:4")
    assert world.notifier.alerts == []  # it will be retried

    with pytest.raises(CloudZeroUnavailable):
        world.deliver(body, delivery_id="m:5", last_attempt=True)
    [alert] = world.notifier.alerts
    assert alert.kind == "month_dead_lettered"
    assert "dead-letter queue" in (world.report(sha_of(body)).months["2026-02"].error or "")


def test_success_is_notified_only_when_asked() -> None:
    world = World()
    world.pusher.notify_success = True
    body = uploaded(world)
    world.deliver(body)
    [alert] = world.notifier.alerts
    assert (alert.kind, alert.needs_a_person) == ("file_pushed", False)


def test_a_stored_key_that_cannot_be_sent_says_to_store_it_again_and_never_repeats_it() -> None:
    # The real client, unreachable: it refuses the key before any request.
    world = World()
    world.pusher.cloudzero = AnyCostClient("http://127.0.0.1:9", "conn-1", "S3CR3T\nK3Y", request_timeout=1.0)
    body = uploaded(world)
    world.deliver(body)

    [alert] = world.notifier.alerts
    report = world.published_report(sha_of(body))
    assert alert.kind == "api_key_refused" and "aws secretsmanager put-secret-value" in alert.fix
    assert report["months"]["2026-02"]["status"] == "failed"
    assert "S3CR3T" not in str(alert) and "S3CR3T" not in json.dumps(report)
