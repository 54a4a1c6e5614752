"""Hundreds of hostile uploads through the real splitter handler: each one is accepted or refused with a
reason naming the file, quickly and in bounded memory; nothing of a refused file is queued for CloudZero;
no upload is ever deleted.

The inputs come from one seed (tests/fuzz/corpus.py). The handler is started cold once, against moto's
server with the template's stack, with small archive limits so that bombs are cheap to refuse. A raise
from the handler is a crash: every bad file must end in a `rejected` report.

To look into a run: FUZZ_SEED=n generates other inputs, FUZZ_ONLY=text runs those whose label or key
holds the text, FUZZ_RECORDS=path writes one JSON line per input (outcome, seconds, peak memory).
"""

import json
import os
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest

from local_stack.provision import StackOutputs
from tests.fuzz import stack_state
from tests.fuzz.archives import LIMITS
from tests.fuzz.corpus import FIXTURES, SEED, HostileInput, hostile_inputs
from tests.fuzz.memory import PeakMemory
from tests.fuzz.trial import Trial, run_trial
from tests.lambda_events import Handler

pytestmark = [
    pytest.mark.fuzz,
    pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning"),
]

MAPPING_KEY = "config/acme-mapping.json"
MIB = 1024**2
# How each outcome in the report may be answered by the handler (a re-upload of a refused file stays `rejected`).
ANSWERS = {"accepted": {"pending"}, "rejected": {"rejected"}, "duplicate": {"duplicate", "rejected"}}
CRASHES_SHOWN = 10
DRAIN_EVERY = 25  # inputs between takings of the month queue


def splitter_environment(stack: StackOutputs) -> dict[str, str]:
    """The template's environment, with small archive limits and a configured column mapping."""
    s3 = boto3.client("s3")
    # The fuzz hands each S3 event to the handler itself: the local runner's upload queue would only grow
    # (and slow moto's every upload down).
    s3.put_bucket_notification_configuration(Bucket=stack.bucket_name, NotificationConfiguration={})
    s3.put_object(
        Bucket=stack.bucket_name, Key=MAPPING_KEY, Body=(FIXTURES / "mapping" / "acme-mapping.json").read_bytes()
    )
    return {
        **stack.splitter_environment,
        "MAX_DECOMPRESSED_BYTES": str(LIMITS.max_decompressed_bytes),
        "MAX_COMPRESSION_RATIO": str(LIMITS.max_compression_ratio),
        "MAX_ARCHIVE_MEMBERS": str(LIMITS.max_archive_members),
        "COLUMN_MAPPINGS_URI": f"s3://{stack.bucket_name}/{MAPPING_KEY}",
    }


def chosen_inputs() -> list[HostileInput]:
    """Every input of the seed, or those FUZZ_ONLY picks."""
    inputs = hostile_inputs(int(os.environ.get("FUZZ_SEED", SEED)))
    only = os.environ.get("FUZZ_ONLY", "")
    return [hostile for hostile in inputs if only in hostile.label or only in hostile.key]


def outcome_of(trial: Trial, published: dict[str, dict[str, Any]]) -> str:
    """What the file's report says happened to this upload: accepted, rejected or duplicate."""
    report = published.get(trial.sha256 or "")
    if report is None:
        return "no report published"
    entries = [
        upload["outcome"]
        for upload in report["uploads"]
        if upload["key"] == trial.hostile.key and upload["version_id"] == trial.version_id
    ]
    return entries[-1] if entries else "the upload is missing from its report"


def test_hostile_uploads_never_crash_the_splitter_and_never_reach_cloudzero(
    stack: StackOutputs, cold_start: Callable[..., Handler], fuzz_figures: list[str]
) -> None:
    handler = cold_start("splitter", splitter_environment(stack))
    memory = PeakMemory()
    trials: list[Trial] = []
    messages: list[dict[str, Any]] = []
    for number, hostile in enumerate(chosen_inputs(), start=1):
        trials.append(run_trial(handler, stack, hostile, memory))
        if number % DRAIN_EVERY == 0:  # moto's queue slows down as it grows
            messages += stack_state.month_messages(stack)
    messages += stack_state.month_messages(stack)

    answered = [trial for trial in trials if trial.crash is None]
    published = stack_state.reports(stack, [trial.sha256 for trial in answered if trial.sha256])
    outcomes = {trial.hostile.key: outcome_of(trial, published) for trial in answered}
    rejected = {sha for trial in answered if (sha := trial.sha256) and outcomes[trial.hostile.key] == "rejected"}
    accepted = {sha for trial in answered if (sha := trial.sha256) and outcomes[trial.hostile.key] == "accepted"}
    queued = Counter(message["file"]["sha256"] for message in messages)
    # A file's first push of each month; a push again (a replay id) follows an upload of its bytes made the truth.
    first_pushes = Counter(message["file"]["sha256"] for message in messages if not message.get("replay_id"))
    pushed_again = {message["file"]["sha256"] for message in messages if message.get("replay_id")}
    batches = stack_state.batch_shas(stack)
    uploads = stack_state.current_uploads(stack)
    timeouts = [trial for trial in trials if trial.timed_out]
    crashes = [trial for trial in trials if trial.crash and not trial.timed_out]
    counts = Counter(outcomes.values())
    limit_mib = stack.splitter.memory_mb
    peak = max(trials, key=lambda trial: trial.peak_bytes)
    fuzz_figures.append(
        f"fuzz: inputs {len(trials)}, accepted {counts['accepted']}, rejected {counts['rejected']}, "
        f"duplicates {counts['duplicate']}, crashes {len(crashes)}, timeouts {len(timeouts)}, "
        f"peak MiB {peak.peak_bytes / MIB:.1f} of MemorySize {limit_mib}, "
        f"pushes from rejected files {sum(queued[sha] for sha in rejected)}"
    )

    problems = [f"CRASH {trial.name}:\n{trial.crash}" for trial in crashes[:CRASHES_SHOWN]]
    problems += [f"CRASH {trial.name}" for trial in crashes[CRASHES_SHOWN:]]
    problems += [f"TIMEOUT {trial.name}: {trial.seconds:.1f} s" for trial in timeouts]
    for trial in answered:
        outcome, error = outcomes[trial.hostile.key], published.get(trial.sha256 or "", {}).get("error") or ""
        report = published.get(trial.sha256 or "", {})
        answers = ANSWERS.get(outcome, set())
        if outcome == "duplicate" and _pushed_again(report):
            answers = answers | {"pending"}  # the same bytes as the latest upload made the month's truth again
        if trial.status not in answers:
            problems.append(f"NO CLEAR OUTCOME {trial.name}: answered {trial.status!r}, the report says {outcome!r}")
        # One report per content: a rejected file uploaded again under another key is read again, and the
        # error names the latest of those uploads, each of which the report lists.
        upload_keys = {upload["key"] for upload in report.get("uploads", [])}
        named = any(key in error for key in upload_keys) and trial.hostile.key in upload_keys
        if outcome == "rejected" and not named:
            problems.append(f"REJECTED WITHOUT NAMING THE FILE {trial.name}: error {error!r}")
    problems += [
        f"QUEUED FROM A REJECTED FILE {message['file']['key']}: {message['month']}"
        for message in messages
        if message["file"]["sha256"] in rejected
    ]
    problems += [f"BATCH STORED FOR A REJECTED FILE {sha}" for sha in batches & rejected]
    problems += [
        f"ACCEPTED BUT NOT QUEUED {sha}: {first_pushes[sha]} messages for {len(published[sha]['months'])} months"
        for sha in accepted
        if first_pushes[sha] != len(published[sha]["months"])
    ]
    problems += [f"PUSHED AGAIN UNASKED {sha}" for sha in pushed_again if not _pushed_again(published.get(sha, {}))]
    problems += [
        f"UPLOAD DELETED {trial.name}" for trial in trials if (trial.hostile.key, trial.version_id) not in uploads
    ]
    problems += [
        f"OUT OF MEMORY {trial.name}: {trial.peak_bytes / MIB:.0f} MiB of {limit_mib}"
        for trial in trials
        if trial.peak_bytes >= limit_mib * MIB
    ]
    if records := os.environ.get("FUZZ_RECORDS"):
        write_records(Path(records), trials, outcomes)
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)


def write_records(path: Path, trials: list[Trial], outcomes: dict[str, str]) -> None:
    """One JSON line per input: what happened to it, how long it took, the memory it needed."""
    with path.open("w") as records:
        for trial in trials:
            outcome = "crash" if trial.crash else outcomes[trial.hostile.key]
            record: dict[str, object] = {"key": trial.hostile.key, "label": trial.hostile.label, "outcome": outcome}
            record |= {"seconds": round(trial.seconds, 3), "peak_mib": round(trial.peak_bytes / MIB, 1)}
            records.write(json.dumps(record) + "\n")


def _pushed_again(report: dict[str, Any]) -> bool:
    """Whether an upload of this file's bytes made it a month's truth again and queued its push again."""
    return any("pushed again" in (month.get("error") or "") for month in report.get("months", {}).values())
