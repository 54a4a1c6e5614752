"""Many files and months through the whole local pipeline while CloudZero misbehaves and S3 repeats and
reorders its events: every month lands exactly once with its latest file's total, none doubled, none lost.

The storm (seeded): 429 with Retry-After, 500 and 503 answers, slow answers, dropped connections, and
ghost writes (CloudZero applies a drop, then the connection drops before the answer). S3 events arrive
twice and in reverse order. After the storm an operator redrives the dead-letter queue, as the README says.
"""

import json
import random
from decimal import Decimal

import boto3

from local_stack.stack import LocalPipeline
from operator_commands.redrive import redrive
from tests.e2e.conftest import held_total, queue_depth

SEED = 20261127
MONTHS = [f"2026-{number:02d}" for number in range(1, 7)]
LARGE_MONTH = "2026-07"  # over 5,000,000 bytes of CBF: a replace_drop and sum chunks
STORM = 40


def headerless(rng: random.Random, accounts: int) -> tuple[bytes, Decimal]:
    lines, total = [], Decimal(0)
    for _ in range(accounts):
        cents = rng.randrange(1, 10_000_000)
        lines.append(f'{rng.randrange(10**11, 10**12):012d},"${cents // 100:,}.{cents % 100:02d}"\n')
        total -= Decimal(cents) / 100
    return "".join(lines).encode(), total


def large(accounts: int) -> tuple[bytes, Decimal]:
    data = "".join(f"{n:012d},$1.{n % 100:02d}\n" for n in range(1, accounts + 1)).encode()
    return data, -sum((Decimal(f"1.{n % 100:02d}") for n in range(1, accounts + 1)), Decimal(0))


def reorder_and_repeat_events(pipeline: LocalPipeline, rng: random.Random) -> int:
    """Take every S3 event waiting, then deliver them shuffled, some twice (S3: at least once, any order)."""
    sqs = boto3.client("sqs")
    url = pipeline.runner.upload_queue_url
    events = []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for message in batch:
            events.append(message["Body"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    repeated = [body for body in events if rng.random() < 0.5]
    delivered = events + repeated
    rng.shuffle(delivered)
    for body in delivered:
        sqs.send_message(QueueUrl=url, MessageBody=body)
    return len(repeated)


def test_a_fault_storm_over_many_files_and_months_loses_nothing_and_doubles_nothing(
    pipeline: LocalPipeline, figures: list[str]
) -> None:
    rng = random.Random(SEED)
    emulator = pipeline.emulator
    assert emulator is not None
    expected: dict[str, Decimal] = {}
    files = 0
    for month in MONTHS:
        data, total = headerless(rng, accounts=rng.randrange(5, 60))
        pipeline.put(f"incoming/credits-{month}.csv", data)
        expected[month] = total
        files += 1
    # A corrected February: the later upload is the month's truth, whatever order its event arrives in.
    corrected, corrected_total = headerless(rng, accounts=20)
    pipeline.put("incoming/credits-2026-02-corrected.csv", corrected)
    expected["2026-02"] = corrected_total
    files += 1
    data, total = large(40_000)
    pipeline.put(f"incoming/credits-{LARGE_MONTH}.csv", data)
    expected[LARGE_MONTH] = total
    files += 1

    repeated = reorder_and_repeat_events(pipeline, rng)
    kinds = [
        {"status": 429, "retry_after": 1},
        {"status": 500},
        {"status": 503},
        {"delay_seconds": 0.3},
        {"disconnect": True},
        {"disconnect": True, "ghost_write": True},  # applied, then the connection drops
        {"status": 503, "ghost_write": True},  # applied, then answered 503
    ]
    for _ in range(STORM):
        emulator.inject_fault(**rng.choice(kinds))  # type: ignore[arg-type]

    pipeline.runner.run_until_idle(max_seconds=300)
    dlq = pipeline.stack.output("DeadLetterQueueUrl")
    redrives = 0
    while queue_depth(dlq) and redrives < 3:  # the operator's redrive after the outage
        emulator.clear_faults()
        redrive(
            dlq,
            pipeline.stack.output("DeadLetterQueueArn"),
            pipeline.stack.output("MonthQueueUrl"),
            pipeline.stack.output("MonthQueueArn"),
        )
        redrives += 1
        pipeline.runner.run_until_idle(max_seconds=300)

    held = {month: held_total(pipeline, month) for month in expected}
    exact = [month for month in expected if held[month] == expected[month]]
    doubled = [month for month in expected if abs(held[month]) > abs(expected[month])]
    lost = [month for month in expected if held[month] != expected[month] and month not in doubled]
    posts = [r for r in emulator.requests if r.method == "POST" and "billing_drops" in r.path]
    figures.append(
        f"chaos: files {files}, months {len(expected)}, requests {len(posts)}, faults injected {STORM}, "
        f"events repeated {repeated}, redrives {redrives}, months exact {len(exact)}, "
        f"double credits {len(doubled)}, months lost {len(lost)}"
    )
    assert doubled == []
    assert lost == []
    assert queue_depth(dlq) == 0
    assert emulator.concurrency_violations == []  # one request in flight per connection, all along
    assert json.dumps(sorted(exact)) == json.dumps(sorted(expected))
