"""Each month's CloudZero bodies, prepared once by the splitter and sent as stored by the pusher.

The splitter stores every body (exactly the bytes to POST) and a manifest listing them; the pusher
checks each body's size and SHA-256 against the manifest before it sends any. Messages and batches
of schema version 1, queued before version 2 was deployed, are still pushed.
"""

import hashlib
import io
import json
from decimal import Decimal

import pytest

from credits_pipeline.domain.cbf import MAX_BODY_BYTES, MonthLimit, drop_bodies
from credits_pipeline.domain.identity import batch_key, chunk_key
from credits_pipeline.domain.messages import MonthBatch, MonthManifest, MonthMessage
from credits_pipeline.formats import ParseConfig, read_credit_file
from tests.fakes import BUCKET, World

KEY = "incoming/credits-2026-02.csv"
FEBRUARY = b"000000000001,$10.00\n000000000002,$20.50\n"
FEBRUARY_TOTAL = Decimal("-30.50")


def uploaded(world: World, data: bytes = FEBRUARY) -> MonthMessage:
    """Upload a headerless February file through the splitter; its month message."""
    assert world.upload(KEY, data).status == "pending"
    [sent] = world.queue.sent
    return sent.message


def manifest(world: World, message: MonthMessage) -> MonthManifest:
    return MonthManifest.model_validate_json(world.objects.objects[(BUCKET, message.batch_key)])


def large_month(accounts: int = 40_000) -> tuple[bytes, Decimal]:
    """Over 5,000,000 bytes of CBF: a replace_drop and at least one sum chunk."""
    data = "".join(f"{n:012d},$1.{n % 100:02d}\n" for n in range(1, accounts + 1)).encode()
    return data, -sum((Decimal(f"1.{n % 100:02d}") for n in range(1, accounts + 1)), Decimal(0))


def test_a_month_whose_bodies_pass_the_byte_limit_stops_storing_there_and_queues_nothing() -> None:
    world = World(month_limit=MonthLimit(bytes=MAX_BODY_BYTES + 1))  # the first chunk fits, the second does not
    data, _ = large_month()

    report = world.upload(KEY, data)

    assert report.status == "rejected"
    assert report.error is not None and "CloudZero rows in at least" in report.error
    # The first body was stored before the second passed the limit; no later body and no manifest.
    assert [key.rsplit("/", 1)[-1] for key in world.objects.keys("batches/")] == ["chunk-0000.json"]
    assert world.queue.sent == []


def version_1_batch(message: MonthMessage, data: bytes = FEBRUARY) -> MonthBatch:
    """The batch a splitter of schema version 1 stored for the same file."""
    credit_file = read_credit_file(io.BytesIO(data), KEY, ParseConfig())
    return MonthBatch.from_month_credits(message.file, credit_file.months[message.month])


def test_the_splitter_stores_the_bodies_to_send_and_a_manifest_that_lists_them() -> None:
    world = World()
    message = uploaded(world)
    sha = message.file.sha256

    assert (message.schema_version, message.batch_key) == (2, batch_key(sha, "2026-02"))
    stored = manifest(world, message)
    assert (stored.schema_version, stored.month, stored.accounts, stored.total) == (2, "2026-02", 2, FEBRUARY_TOTAL)
    [chunk] = stored.chunks
    body = world.objects.objects[(BUCKET, chunk.key)]
    assert (chunk.key, chunk.size, chunk.sha256, chunk.rows, chunk.operation, chunk.total) == (
        chunk_key(sha, "2026-02", 0),
        len(body),
        hashlib.sha256(body).hexdigest(),
        2,
        "replace_drop",
        FEBRUARY_TOTAL,
    )
    # Byte for byte what the pusher used to build from the month's batch.
    assert [body] == [drop.body for drop in drop_bodies(version_1_batch(message))]
    assert json.loads(body)["data"][0]["cost/cost"] == "-10.00"  # money as plain decimal strings


def test_a_large_month_is_stored_in_chunks_under_the_limit_and_lands_whole() -> None:
    world = World()
    data, expected = large_month()
    message = uploaded(world, data)

    stored = manifest(world, message)
    assert len(stored.chunks) >= 2
    assert all(chunk.size <= MAX_BODY_BYTES for chunk in stored.chunks)
    assert [chunk.operation for chunk in stored.chunks] == ["replace_drop"] + ["sum"] * (len(stored.chunks) - 1)
    assert sum(chunk.rows for chunk in stored.chunks) == stored.accounts == 40_000
    assert sum((chunk.total for chunk in stored.chunks), Decimal(0)) == stored.total == expected

    assert world.deliver(message.model_dump_json()).status == "pushed"

    assert [call.operation for call in world.cloudzero.calls] == [chunk.operation for chunk in stored.chunks]
    assert world.cloudzero.month_total("2026-02") == expected
    month = world.report(message.file.sha256).months["2026-02"]
    assert (month.status, month.verified, month.chunks) == ("pushed", True, len(stored.chunks))


def _altered(body: bytes) -> bytes:
    """The same size, one cost changed."""
    return body.replace(b'"cost/cost":"-1.', b'"cost/cost":"-9.', 1)


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (_altered, "sha256"),
        (lambda body: body[:-10], "bytes"),
        (None, "missing"),
    ],
)
def test_a_stored_body_that_is_not_the_one_its_manifest_lists_is_dead_lettered_and_nothing_is_sent(
    change, said
) -> None:
    world = World()
    data, _ = large_month()
    message = uploaded(world, data)
    last = manifest(world, message).chunks[-1]  # the first chunks are fine: not even they may be sent
    if change is None:
        del world.objects.objects[(BUCKET, last.key)]
    else:
        world.objects.objects[(BUCKET, last.key)] = change(world.objects.objects[(BUCKET, last.key)])

    result = world.deliver(message.model_dump_json())

    assert result.status == "dead_lettered"
    assert world.cloudzero.calls == []
    [dead] = world.dead_letters.sent
    assert last.key in dead.reason and said in dead.reason
    month = world.report(message.file.sha256).months["2026-02"]
    assert month.status == "failed" and last.key in (month.error or "")
    # Our own stored data, not CloudZero's refusal: the alert says so, and how to get the batch back.
    [alert] = world.notifier.alerts
    assert alert.kind == "batch_invalid" and "refused" not in alert.title
    assert "CloudZero was not called" in alert.fix
    assert f"list-object-versions --bucket {BUCKET} --prefix batches/{message.file.sha256}/2026-02" in alert.fix
    assert alert.fix.endswith("python scripts/redrive.py --stack-name credits-pipeline")


def test_a_version_1_message_and_batch_queued_before_the_deploy_are_pushed_and_verified() -> None:
    world = World()
    message = uploaded(world)
    for key in world.objects.keys(f"batches/{message.file.sha256}/"):
        del world.objects.objects[(BUCKET, key)]  # a version-1 splitter stored one document, no bodies
    world.objects.put_json(BUCKET, message.batch_key, version_1_batch(message).model_dump_json().encode())
    old = message.model_copy(update={"schema_version": 1})

    result = world.deliver(old.model_dump_json())

    assert result.status == "pushed"
    same_file_now = World()
    same_file_now.deliver(uploaded(same_file_now).model_dump_json())
    assert [call.rows for call in world.cloudzero.calls] == [call.rows for call in same_file_now.cloudzero.calls]
    month = world.report(message.file.sha256).months["2026-02"]
    assert (month.status, month.verified) == ("pushed", True)


def test_a_batch_of_another_version_than_its_message_says_is_dead_lettered_unsent() -> None:
    world = World()
    message = uploaded(world)  # its batch is a version-2 manifest
    old = message.model_copy(update={"schema_version": 1})

    result = world.deliver(old.model_dump_json())

    assert result.status == "dead_lettered"
    assert world.cloudzero.calls == []
    [dead] = world.dead_letters.sent
    assert "is schema_version 2" in dead.reason and "message is schema_version 1" in dead.reason


def test_a_batch_of_a_schema_version_this_pusher_does_not_know_is_dead_lettered_saying_so() -> None:
    world = World()
    message = uploaded(world)
    newer = json.loads(world.objects.objects[(BUCKET, message.batch_key)]) | {"schema_version": 3}
    world.objects.put_json(BUCKET, message.batch_key, json.dumps(newer).encode())

    result = world.deliver(message.model_dump_json())

    assert result.status == "dead_lettered"
    assert world.cloudzero.calls == []
    [dead] = world.dead_letters.sent
    assert "schema_version 3: this pusher reads 1 and 2" in dead.reason


def test_a_message_of_a_schema_version_this_pusher_does_not_know_is_dead_lettered_saying_so() -> None:
    world = World()
    body = json.dumps(json.loads(uploaded(world).model_dump_json()) | {"schema_version": 3, "new_field": 1})

    result = world.deliver(body, "message-7:1")

    assert result.status == "dead_lettered"
    assert world.cloudzero.calls == []
    [dead] = world.dead_letters.sent
    assert (dead.body, dead.deduplication_id) == (body, "unreadable-message-7:1")
    assert "unreadable month message: schema_version 3: this pusher reads 1 and 2" in dead.reason


def test_the_read_back_is_compared_with_every_stored_chunk() -> None:
    world = World()
    data, _ = large_month()
    message = uploaded(world, data)
    last_account = f"{40_000:012d}"  # in the last chunk

    def last_row_lost(rows: list[dict[str, str]]) -> list[dict[str, str]]:
        return [row for row in rows if row["resource/account"] != last_account]

    world.cloudzero.drift = last_row_lost
    world.deliver(message.model_dump_json())

    month = world.report(message.file.sha256).months["2026-02"]
    assert (month.status, month.verified) == ("unverified", False)
    assert [(d.account_id, d.sent, d.held) for d in month.differences] == [(last_account, Decimal("-1.00"), Decimal(0))]
