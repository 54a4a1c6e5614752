"""The pusher wired with in-memory fakes at its ports: one month, one drop, whatever the queue does."""

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from credits_pipeline.domain.cbf import DropBody
from credits_pipeline.domain.identity import chunk_key
from credits_pipeline.domain.messages import MonthMessage
from credits_pipeline.domain.report import RunReport
from credits_pipeline.services.ports import (
    CloudZeroRejected,
    CloudZeroUnavailable,
    DropReceipt,
    OutcomeUnknown,
    Remaining,
)
from credits_pipeline.services.pusher import MonthCutShort
from testdata.headerless import monthly_csv
from tests.fakes import BUCKET, World

FEBRUARY = b"000000000001,$10.00\n000000000002,$20.50\n"
FEBRUARY_TOTAL = -(Decimal("10.00") + Decimal("20.50"))
CORRECTED = FEBRUARY + b"000000000003,$5.00\n"
CORRECTED_TOTAL = FEBRUARY_TOTAL - Decimal("5.00")
TWO_MONTHS = (
    b"Account ID,Month,Amount\n000000000001,2026-01,10.00\n000000000002,2026-01,20.50\n000000000003,2026-02,5.00\n"
)


def uploaded(world: World, key: str = "incoming/credits-2026-02.csv", data: bytes = FEBRUARY, **extra) -> str:
    """Upload a file through the splitter; the body of its (last) month message."""
    report = world.upload(key, data, **extra)
    assert report.status == "pending"
    return world.queue.sent[-1].body


def test_a_month_message_becomes_one_replace_drop_and_a_pushed_report() -> None:
    world = World()
    body = uploaded(world)
    sha = MonthMessage.model_validate_json(body).file.sha256

    result = world.deliver(body)

    [call] = world.cloudzero.calls
    assert (call.month, call.operation, call.error) == ("2026-02", "replace_drop", None)
    assert {(row["resource/account"], row["cost/cost"]) for row in call.rows} == {
        ("000000000001", "-10.00"),
        ("000000000002", "-20.50"),
    }
    assert world.cloudzero.month_total("2026-02") == FEBRUARY_TOTAL
    assert (result.status, result.drop_id) == ("pushed", call.drop_id)
    report = world.published_report(sha)
    month = report["months"]["2026-02"]
    assert (report["status"], month["status"], month["drop_id"], month["attempts"]) == (
        "pushed",
        "pushed",
        call.drop_id,
        1,
    )
    pointer = world.records.month_pointer("2026-02")
    assert pointer is not None
    assert (pointer.sha256, pointer.pushed_sha256, pointer.drop_id) == (sha, sha, call.drop_id)
    assert world.dead_letters.sent == []


def test_a_redelivered_message_sends_nothing_again() -> None:
    world = World()
    body = uploaded(world)
    first = world.deliver(body, "message-1:1")
    again = world.deliver(body, "message-1:2")

    assert (again.status, again.drop_id) == ("already_pushed", first.drop_id)
    assert len(world.cloudzero.calls) == 1
    assert world.cloudzero.month_total("2026-02") == FEBRUARY_TOTAL
    month = world.report(MonthMessage.model_validate_json(body).file.sha256).months["2026-02"]
    assert (month.status, month.attempts) == ("pushed", 1)


def test_a_month_cloudzero_refuses_fails_with_its_message_and_goes_to_the_dlq() -> None:
    world = World()
    body = uploaded(world)
    world.cloudzero.fail_next(CloudZeroRejected(400, "row 0: lineitem/type 'Credits' is not allowed"))

    result = world.deliver(body)  # returns: the queue message is done with

    assert result.status == "dead_lettered"
    report = world.report(MonthMessage.model_validate_json(body).file.sha256)
    assert report.status == "failed"
    assert "row 0: lineitem/type 'Credits' is not allowed" in (report.months["2026-02"].error or "")
    [dead] = world.dead_letters.sent
    assert dead.message == MonthMessage.model_validate_json(body)
    assert "CloudZero answered 400" in dead.reason and "lineitem/type" in dead.reason
    assert world.cloudzero.drops == []


def test_cloudzero_unavailable_fails_the_month_returns_it_to_the_queue_and_a_later_delivery_pushes_it() -> None:
    world = World()
    body = uploaded(world)
    sha = MonthMessage.model_validate_json(body).file.sha256
    world.cloudzero.fail_next(CloudZeroUnavailable("gave up after 3 attempts: 503"))

    with pytest.raises(CloudZeroUnavailable):
        world.deliver(body, "message-1:1")

    failed = world.report(sha)
    assert (failed.status, failed.months["2026-02"].status) == ("failed", "failed")
    assert "503" in (failed.months["2026-02"].error or "")
    assert world.dead_letters.sent == []  # SQS retries it; after maxReceiveCount it reaches the DLQ

    result = world.deliver(body, "message-1:2")

    assert result.status == "pushed"
    assert [call.error is None for call in world.cloudzero.calls] == [False, True]
    assert world.cloudzero.month_total("2026-02") == FEBRUARY_TOTAL
    pushed = world.report(sha)
    assert (pushed.status, pushed.error, pushed.months["2026-02"].attempts) == ("pushed", None, 2)


def test_a_message_from_a_file_that_is_no_longer_the_months_latest_is_superseded() -> None:
    world = World()
    old = uploaded(world, event_time="2026-03-01T09:00:00.000Z")
    new = uploaded(world, "incoming/credits-2026-02-corrected.csv", CORRECTED, event_time="2026-03-02T09:00:00.000Z")
    old_sha = MonthMessage.model_validate_json(old).file.sha256

    result = world.deliver(old)

    assert result.status == "superseded"
    assert "incoming/credits-2026-02-corrected.csv" in result.detail
    assert world.cloudzero.calls == []
    assert world.report(old_sha).months["2026-02"].status == "superseded"
    # Regression: a file whose only month was superseded said `pushed`, though nothing of it was sent.
    assert world.report(old_sha).status == "superseded"
    assert world.published_report(old_sha)["status"] == "superseded"
    assert world.deliver(new).status == "pushed"
    assert world.cloudzero.month_total("2026-02") == CORRECTED_TOTAL


def test_an_older_upload_arriving_late_does_not_take_the_month_back() -> None:
    world = World()
    new = uploaded(world, "incoming/credits-2026-02-corrected.csv", CORRECTED, event_time="2026-03-02T09:00:00.000Z")
    old = uploaded(world, event_time="2026-03-01T09:00:00.000Z")

    assert world.deliver(old).status == "superseded"
    assert world.deliver(new).status == "pushed"
    assert world.cloudzero.month_total("2026-02") == CORRECTED_TOTAL


def test_a_replay_is_pushed_again_after_the_first_push() -> None:
    world = World()
    body = uploaded(world)
    world.deliver(body)
    replay = MonthMessage.model_validate_json(body).model_copy(update={"replay_id": "replay-1"})

    result = world.deliver(replay.model_dump_json(), "message-2:1")

    assert result.status == "pushed"
    assert [(call.operation, call.error) for call in world.cloudzero.calls] == [
        ("replace_drop", None),
        ("replace_drop", None),
    ]
    assert world.cloudzero.month_total("2026-02") == FEBRUARY_TOTAL  # replaced, not added
    month = world.report(replay.file.sha256).months["2026-02"]
    assert (month.status, month.attempts, month.drop_id) == ("pushed", 2, world.cloudzero.calls[-1].drop_id)


def test_a_replay_of_an_older_file_made_the_months_truth_again_is_pushed() -> None:
    world = World()
    old = MonthMessage.model_validate_json(uploaded(world, event_time="2026-03-01T09:00:00.000Z"))
    uploaded(world, "incoming/credits-2026-02-corrected.csv", CORRECTED, event_time="2026-03-02T09:00:00.000Z")
    # `credits-replay --file`: the older file becomes the month's truth, then its replay is queued
    world.records.accept_month("2026-02", old.file.sha256, old.file.bucket, old.file.key, "", force=True)
    replay = old.model_copy(update={"replay_id": "replay-1"})

    assert world.deliver(replay.model_dump_json()).status == "pushed"
    assert world.cloudzero.month_total("2026-02") == FEBRUARY_TOTAL


def test_a_replay_that_waited_while_a_newer_upload_became_the_truth_is_superseded_unsent() -> None:
    world = World()
    first = uploaded(world, event_time="2026-03-01T09:00:00.000Z")
    world.deliver(first, "message-1:1")
    # `credits-replay --month 2026-02` queues the truth of then; an outage leaves it in the DLQ
    replay = MonthMessage.model_validate_json(first).model_copy(update={"replay_id": "replay-1"})
    corrected = uploaded(
        world, "incoming/credits-2026-02-corrected.csv", CORRECTED, event_time="2026-03-05T09:00:00.000Z"
    )
    world.deliver(corrected, "message-2:1")

    result = world.deliver(replay.model_dump_json(), "message-3:1")  # `credits-redrive`

    assert result.status == "superseded"
    assert world.cloudzero.month_total("2026-02") == CORRECTED_TOTAL
    corrected_month = world.report(MonthMessage.model_validate_json(corrected).file.sha256).months["2026-02"]
    assert (corrected_month.status, corrected_month.verified) == ("pushed", True)


def test_a_batch_that_is_not_the_one_the_message_describes_is_dead_lettered_unsent() -> None:
    world = World()
    message = MonthMessage.model_validate_json(uploaded(world))
    tampered = message.model_copy(update={"total": Decimal("-31.50")})

    result = world.deliver(tampered.model_dump_json())

    assert result.status == "dead_lettered"
    assert world.cloudzero.calls == []
    [dead] = world.dead_letters.sent
    assert "-30.50" in dead.reason and "-31.50" in dead.reason
    month = world.report(message.file.sha256).months["2026-02"]
    assert month.status == "failed"


def test_an_unreadable_message_is_dead_lettered_as_it_came() -> None:
    world = World()
    body = '{"schema_version": 2, "month": "2026-02"}'

    result = world.deliver(body, "message-9:1")

    assert result.status == "dead_lettered"
    [dead] = world.dead_letters.sent
    assert (dead.body, dead.deduplication_id) == (body, "unreadable-message-9:1")
    assert "unreadable month message" in dead.reason
    assert world.cloudzero.calls == []
    [alert] = world.notifier.alerts  # a person hears of it, not only the DLQ's depth alarm
    assert alert.kind == "message_unreadable"
    assert alert.reason == dead.reason
    assert "scripts/redrive.py" in alert.fix


@pytest.mark.parametrize(
    ("january", "february", "after_first", "final"),
    [
        (None, None, "pending", "pushed"),
        (None, CloudZeroRejected(400, "no"), "pending", "partially_failed"),
        (CloudZeroRejected(400, "no"), None, "partially_failed", "partially_failed"),
        (CloudZeroRejected(400, "no"), CloudZeroRejected(403, "no"), "partially_failed", "failed"),
    ],
)
def test_the_report_status_adds_up_the_months(january, february, after_first, final) -> None:
    world = World()
    sha = world.upload("incoming/sheet.csv", TWO_MONTHS).file.sha256
    by_month = {sent.message.month: sent.body for sent in world.queue.sent}

    for month, error in (("2026-01", january), ("2026-02", february)):
        if error is not None:
            world.cloudzero.fail_next(error)
        world.deliver(by_month[month], f"{month}:1")
        if month == "2026-01":
            assert world.report(sha).status == after_first

    report = world.published_report(sha)
    assert report["status"] == final
    expected_failed = [m for m, error in (("2026-01", january), ("2026-02", february)) if error is not None]
    assert sorted(m for m, r in report["months"].items() if r["status"] == "failed") == expected_failed
    assert report["error"] == (f"months not pushed: {', '.join(expected_failed)}" if expected_failed else None)


# ---------------------------------------------------------------- properties

ACCOUNTS = st.integers(0, 999_999_999_999).map(lambda n: f"{n:012d}")
CENTS = st.integers(1, 1_000_000_000)  # up to $10,000,000.00


def written(cents: int, style: str) -> str:
    """An amount as the ops team writes it: `12.34`, `$12.34` or `"$1,234.56"`."""
    dollars, rest = divmod(cents, 100)
    if style == "plain":
        return f"{dollars}.{rest:02d}"
    if style == "dollar":
        return f"${dollars}.{rest:02d}"
    return f'"${dollars:,}.{rest:02d}"'


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.dictionaries(
        ACCOUNTS, st.tuples(CENTS, st.sampled_from(["plain", "dollar", "thousands"])), min_size=1, max_size=25
    )
)
def test_what_cloudzero_holds_is_minus_the_files_credits_to_the_cent(credits) -> None:
    world = World()
    data = "".join(f"{account},{written(cents, style)}\n" for account, (cents, style) in credits.items()).encode()
    expected = -Decimal(sum(cents for cents, _ in credits.values())) / 100

    world.upload("incoming/credits-2026-01.csv", data)
    [sent] = world.queue.sent
    assert world.deliver(sent.body).status == "pushed"

    assert world.cloudzero.month_total("2026-01") == expected
    assert {row["resource/account"] for row in world.cloudzero.rows["2026-01"]} == set(credits)


MONTHS = st.sampled_from(["2025-11", "2025-12", "2026-01", "2026-02"])


@st.composite
def redeliveries(draw: st.DrawFn) -> tuple[list[tuple[tuple[str, str], int]], list[int]]:
    """A multi-month sheet, and its month messages' deliveries: each at least once, in any order."""
    months = draw(st.lists(MONTHS, min_size=1, max_size=4, unique=True))
    drawn = draw(
        st.lists(st.tuples(ACCOUNTS, st.sampled_from(months), CENTS), min_size=len(months), max_size=12).filter(
            lambda r: {month for _, month, _ in r} == set(months)
        )
    )
    rows = list({(account, month): cents for account, month, cents in drawn}.items())
    extra = draw(st.lists(st.integers(0, len(months) - 1), max_size=8))
    order = draw(st.permutations(list(range(len(months))) + extra))
    return rows, order


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(redeliveries())
def test_any_interleaving_of_redeliveries_sends_each_month_exactly_once(case) -> None:
    rows, order = case
    world = World()
    data = "Account ID,Month,Amount\n" + "".join(
        f"{account},{month},{cents // 100}.{cents % 100:02d}\n" for (account, month), cents in rows
    )
    world.upload("incoming/sheet.csv", data.encode())
    bodies = sorted((sent.body for sent in world.queue.sent), key=lambda b: MonthMessage.model_validate_json(b).month)
    months = sorted({month for (_, month), _ in rows})
    assert len(bodies) == len(months)

    for delivery, index in enumerate(order):
        assert world.deliver(bodies[index], f"delivery-{delivery}").status in ("pushed", "already_pushed")

    assert sorted(call.month for call in world.cloudzero.calls) == months
    for month in months:
        expected = -Decimal(sum(cents for (_, m), cents in rows if m == month)) / 100
        assert world.cloudzero.month_total(month) == expected
    assert world.published_report(world.queue.messages[0].file.sha256)["status"] == "pushed"
    assert world.objects.keys("reports/") == [f"reports/{world.queue.messages[0].file.sha256}.json"]


@pytest.mark.parametrize("failed_before", [False, True], ids=["first delivery", "after a failed delivery"])
def test_a_push_whose_report_update_was_lost_is_reported_on_redelivery(
    monkeypatch: pytest.MonkeyPatch, failed_before: bool
) -> None:
    world = World()
    body = uploaded(world)
    sha = MonthMessage.model_validate_json(body).file.sha256
    if failed_before:  # the month shows that delivery's failure when the push lands
        world.cloudzero.fail_next(CloudZeroUnavailable("503"))
        with pytest.raises(CloudZeroUnavailable):
            world.deliver(body, delivery_id="delivery-0")
    real_update = world.records.update
    failures = iter([RuntimeError("DynamoDB throttled the report update")])

    def update_failing_once(*args, **kwargs):
        failure = next(failures, None)
        if failure is not None:
            raise failure
        return real_update(*args, **kwargs)

    monkeypatch.setattr(world.records, "update", update_failing_once)
    with pytest.raises(RuntimeError, match="throttled"):
        world.deliver(body)  # CloudZero has the month; the report does not know yet
    sent = len(world.cloudzero.calls)

    result = world.deliver(body, delivery_id="delivery-2")

    call = world.cloudzero.calls[-1]
    assert (result.status, len(world.cloudzero.calls)) == ("already_pushed", sent)  # nothing sent again
    month = world.published_report(sha)["months"]["2026-02"]
    assert (month["status"], month["drop_id"]) == ("pushed", call.drop_id)


def test_a_month_message_redriven_after_a_replay_keeps_the_replays_newer_drop() -> None:
    world = World()
    body = uploaded(world)
    message = MonthMessage.model_validate_json(body)
    world.cloudzero.read_failures = [CloudZeroUnavailable("read timeout")]
    with pytest.raises(CloudZeroUnavailable):
        world.deliver(body, delivery_id="delivery-1")  # pushed, not read back: back to the queue, then the DLQ
    first_drop = world.report(message.file.sha256).months["2026-02"].drop_id

    def replay_queued(report: RunReport) -> None:  # what `credits-replay --month 2026-02` records
        report.months["2026-02"].status = "pending"

    world.pusher.reports.update(message.file.sha256, replay_queued)
    replay = message.model_copy(update={"replay_id": "replay-1"})
    world.deliver(replay.model_dump_json(), delivery_id="delivery-2")
    replayed = world.report(message.file.sha256).months["2026-02"]
    assert (replayed.status, replayed.verified) == ("pushed", True) and replayed.drop_id != first_drop
    calls = len(world.cloudzero.calls)

    assert world.deliver(body, delivery_id="delivery-3").status == "already_pushed"  # `credits-redrive`

    assert len(world.cloudzero.calls) == calls  # nothing sent again
    month = world.report(message.file.sha256).months["2026-02"]
    assert (month.status, month.drop_id, month.attempts) == ("pushed", replayed.drop_id, replayed.attempts)
    pointer = world.records.month_pointer("2026-02")
    assert pointer is not None and pointer.drop_id == replayed.drop_id


def test_an_outage_between_the_chunks_of_a_large_month_never_adds_the_month_twice() -> None:
    world = World()
    accounts = 40_000  # over 5,000,000 bytes of CBF: more than one chunk
    data = monthly_csv((f"{n:012d}", f"$1.{n % 100:02d}") for n in range(1, accounts + 1))
    expected = -sum(Decimal(f"1.{n % 100:02d}") for n in range(1, accounts + 1))
    body = uploaded(world, data=data)
    world.cloudzero.fail_next(CloudZeroUnavailable("CloudZero went away"), after=1)  # the second chunk fails

    with pytest.raises(MonthCutShort, match="CloudZero now holds only the first 1 of the month's"):
        world.deliver(body)
    world.deliver(body, delivery_id="delivery-2")

    first, failed, *resent = world.cloudzero.calls
    assert (first.operation, failed.error is not None) == ("replace_drop", True)
    assert [call.operation for call in resent] == ["replace_drop"] + ["sum"] * (len(resent) - 1)
    assert len(resent) > 1
    assert world.cloudzero.month_total("2026-02") == expected


def _large_month(accounts: int = 40_000) -> tuple[bytes, Decimal]:
    """Over 5,000,000 bytes of CBF: a replace_drop and at least one sum chunk."""
    data = "".join(f"{n:012d},$1.{n % 100:02d}\n" for n in range(1, accounts + 1)).encode()
    return data, -sum((Decimal(f"1.{n % 100:02d}") for n in range(1, accounts + 1)), Decimal(0))


@pytest.mark.parametrize("chunk", [0, 1], ids=["replace_drop", "sum"])
def test_a_chunk_answered_5xx_ends_the_delivery_and_the_next_starts_the_month_over_never_doubled(chunk: int) -> None:
    # Regression: a 5xx was met by sending again at once (a sum chunk: the month started over in the same
    # delivery), while CloudZero could still be applying the first request: a late sum counted twice, a late
    # replace_drop wiped the chunks after it, and the month was read back as verified before either landed.
    world = World()
    data, expected = _large_month()
    body = uploaded(world, data=data)
    world.cloudzero.ghost_next(OutcomeUnknown("CloudZero answered 504 (Gateway Timeout)"), after=chunk)

    with pytest.raises(MonthCutShort):
        world.deliver(body)
    assert [call.applied for call in world.cloudzero.calls] == [False] * chunk + [True]  # nothing after it
    sha = MonthMessage.model_validate_json(body).file.sha256
    month = world.report(sha).months["2026-02"]
    assert month.status == "failed" and "returns to the queue" in (month.error or "")

    world.deliver(body, delivery_id="delivery-2")  # after the queue's visibility timeout
    again = world.cloudzero.calls[chunk + 1 :]
    assert [call.operation for call in again] == ["replace_drop"] + ["sum"] * (len(again) - 1)
    assert world.cloudzero.month_total("2026-02") == expected
    assert world.report(sha).months["2026-02"].verified is True


def test_a_last_delivery_cut_short_says_cloudzero_holds_part_of_the_month_and_forgets_the_earlier_read_back() -> None:
    world = World()
    data, expected = _large_month()
    body = uploaded(world, data=data)
    world.deliver(body)  # pushed and verified
    sha = MonthMessage.model_validate_json(body).file.sha256
    assert world.report(sha).months["2026-02"].verified is True
    replay = MonthMessage.model_validate_json(body).model_copy(update={"replay_id": "r1"})
    world.cloudzero.fail_next(OutcomeUnknown("chunk 1 of 2026-02 got no answer (read timed out)"), after=1)

    with pytest.raises(MonthCutShort):
        world.deliver(replay.model_dump_json(), delivery_id="replay-5", last_attempt=True)

    [alert] = [alert for alert in world.notifier.alerts if alert.kind == "month_dead_lettered"]
    month = world.report(sha).months["2026-02"]
    for told in (alert.reason, month.error or ""):
        assert "CloudZero now holds only the first 1 of the month's" in told and "chunk 1 may still land" in told
    assert (month.status, month.verified) == ("failed", None)  # the earlier read-back no longer says anything
    assert world.cloudzero.month_total("2026-02") != expected  # as the alert says: part of the month


def test_a_stored_chunk_gone_after_the_first_was_sent_says_cloudzero_holds_part_of_the_month() -> None:
    world = World()
    data, expected = _large_month()
    body = uploaded(world, data=data)
    message = MonthMessage.model_validate_json(body)
    send = world.cloudzero.post_drop

    def then_the_next_chunk_is_deleted(drop: DropBody, delivery_id: str, remaining: Remaining) -> DropReceipt:
        receipt = send(drop, delivery_id, remaining)
        del world.objects.objects[(BUCKET, chunk_key(message.file.sha256, message.month, drop.chunk + 1))]
        return receipt

    world.cloudzero.post_drop = then_the_next_chunk_is_deleted  # type: ignore[method-assign,assignment]

    assert world.deliver(body).status == "dead_lettered"

    [alert] = world.notifier.alerts
    assert alert.kind == "batch_invalid"
    assert "CloudZero now holds only the first 1 of the month's" in alert.reason
    assert "CloudZero holds part of the month" in alert.fix and "was not called" not in alert.fix
    assert world.cloudzero.month_total("2026-02") != expected


def test_a_sum_chunk_refused_for_good_says_cloudzero_holds_part_of_the_month_and_a_redrive_makes_it_whole() -> None:
    # The key revoked between chunks, say: the replace_drop already replaced the month, so CloudZero holds
    # only its first chunk until the month is sent again. The person told must know that.
    world = World()
    data, expected = _large_month()
    body = uploaded(world, data=data)
    world.cloudzero.fail_next(CloudZeroRejected(403, "the key lacks a scope"), after=1)

    assert world.deliver(body).status == "dead_lettered"

    [first, refused] = world.cloudzero.calls
    assert (first.operation, refused.operation) == ("replace_drop", "sum")
    held = len(world.cloudzero.rows["2026-02"])
    sha = MonthMessage.model_validate_json(body).file.sha256
    [alert] = world.notifier.alerts
    error = world.report(sha).months["2026-02"].error or ""

    world.deliver(body, delivery_id="redriven")  # once the key is fixed: the redrive
    assert world.cloudzero.month_total("2026-02") == expected
    chunks = len(world.cloudzero.calls) - 2  # what the redrive sent: the whole month
    assert chunks > 1
    for told in (alert.reason, error):
        assert f"CloudZero now holds only the first 1 of the month's {chunks} chunks ({held} rows)" in told


def test_a_chunk_without_an_answer_ends_the_delivery_and_the_next_one_starts_the_month_over_exact() -> None:
    world = World()
    data, expected = _large_month()
    body = uploaded(world, data=data)
    world.cloudzero.ghost_next(OutcomeUnknown("chunk 1 of 2026-02 got no answer (read timed out)"), after=1)

    with pytest.raises(MonthCutShort):
        world.deliver(body)
    # Nothing followed the chunk that got no answer: CloudZero may still be applying it.
    sent = [(call.operation, call.applied) for call in world.cloudzero.calls]
    assert sent == [("replace_drop", False), ("sum", True)]
    sha = MonthMessage.model_validate_json(body).file.sha256
    month = world.report(sha).months["2026-02"]
    assert month.status == "failed" and "returns to the queue" in (month.error or "")

    world.deliver(body, delivery_id="delivery-2")  # after the queue's visibility timeout
    assert world.cloudzero.calls[2].operation == "replace_drop"
    assert world.cloudzero.month_total("2026-02") == expected  # the late chunk was replaced, not added twice
    assert world.report(sha).months["2026-02"].verified is True


def test_two_puts_of_one_key_in_the_same_millisecond_are_ordered_by_s3s_sequencer() -> None:
    # S3 delivers events in no order: the later PUT (higher sequencer) is the truth, even when its event
    # arrives first and both carry the same event time.
    world = World()
    same_instant = "2026-03-01T09:00:00.000Z"
    later = uploaded(world, data=CORRECTED, event_time=same_instant, sequencer="0062E99A88DC407460")
    earlier = uploaded(world, data=FEBRUARY, event_time=same_instant, sequencer="0062E99A88DC40745F")

    assert world.deliver(earlier).status == "superseded"
    assert world.deliver(later).status == "pushed"
    assert world.cloudzero.month_total("2026-02") == CORRECTED_TOTAL
