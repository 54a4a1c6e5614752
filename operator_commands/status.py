"""What the pipeline did: the recent files, one month, or the file on your disk.

Reads the stack's table (each file's record), its bucket (reports and batches) and, with --cloudzero,
what CloudZero holds now (not while a push is queued or in flight: it says so). Writes nothing. Exit
status: 0, 1 when the month or file is unknown, 2 when the command cannot run (credentials, region,
stack, permission).
"""

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

from credits_pipeline.domain.identity import file_identity, report_key
from credits_pipeline.domain.money import format_money
from credits_pipeline.domain.report import READ_BACK_STATUSES, MonthReport, RunReport
from credits_pipeline.domain.verification import MonthCheck
from operator_commands.cli import Target, command_parser, open_stack, run
from operator_commands.errors import EXIT_OK, EXIT_PROBLEM, CommandError
from operator_commands.months import MonthTruth, PushUnderway, check_in_cloudzero, month_truth, objects, records
from operator_commands.text import aligned, month_state, outcome

PROG = "credits-status"
EXAMPLES = (
    "credits-status                                   # the 20 files changed last",
    "credits-status --month 2026-01 --cloudzero       # a month: its file, drop, verification, CloudZero now",
    "credits-status credits-2026-01.csv               # the report of a file on this machine",
    "credits-status export.csv --key incoming/2026-01/export.csv --json",
    "python scripts/status.py --stack-name credits-pipeline --region eu-west-1 --profile ops",
)


def parser() -> argparse.ArgumentParser:
    parser = command_parser(PROG, __doc__.split("\n\n")[0] if __doc__ else "", EXAMPLES)
    parser.add_argument("file", nargs="?", type=Path, help="a local credits file: print the report of its upload")
    parser.add_argument("--key", help="the key FILE was uploaded as (default: <IncomingPrefix><file name>)")
    parser.add_argument("--month", help="YYYY-MM: the month's truth file, drop, verification")
    parser.add_argument("--cloudzero", action="store_true", help="with --month: also read what CloudZero holds now")
    parser.add_argument("--limit", type=_at_least_one, default=20, help="how many recent files (default 20)")
    parser.add_argument("--json", action="store_true", help="one JSON document, for scripts")
    return parser


def main(argv: list[str] | None = None) -> int:
    return run(parser(), status, argv)


def status(args: argparse.Namespace) -> int:
    if args.file and args.month:
        raise CommandError("give a FILE or --month, not both")
    if args.cloudzero and not args.month:
        raise CommandError("--cloudzero goes with --month")
    if args.file and not args.file.is_file():
        raise CommandError(f"no such file: {args.file}")
    target = open_stack(args)
    if args.month:
        return show_month(target, args.month, cloudzero=args.cloudzero, as_json=args.json)
    if args.file:
        return show_file(target, args.file, args.key, as_json=args.json)
    return show_recent(target, args.limit, as_json=args.json)


# ---------------------------------------------------------------- recent files


def _at_least_one(text: str) -> int:
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: give a whole number, 1 or more")
    return int(text)


def show_recent(target: Target, limit: int, *, as_json: bool) -> int:
    reports = records(target).recent(limit)
    if as_json:
        _print_json({"bucket": target.stack.bucket, "files": [_file_json(report) for report in reports]})
        return EXIT_OK
    if not reports:
        print(f"no file has been uploaded to s3://{target.stack.bucket}/ yet (stack {target.stack.name})")
        return EXIT_OK
    rows = [
        [
            report.updated_at,
            outcome(report),
            " ".join(f"{month} {month_state(state)}" for month, state in sorted(report.months.items())) or "-",
            format_money(report.total),
            str(report.skipped_total),
            report.uploads[-1].outcome if report.uploads else "-",
            report.file.key,
            _why(report),
        ]
        for report in reports
    ]
    headers = ["updated", "outcome", "months", "total", "skipped", "last upload", "file", "why"]
    print(f"files in s3://{target.stack.bucket}/ (stack {target.stack.name}), newest first:")
    print(aligned(headers, rows, right=("total", "skipped")))
    return EXIT_OK


# ---------------------------------------------------------------- one month


def show_month(target: Target, month: str, *, cloudzero: bool, as_json: bool) -> int:
    truth = month_truth(target, month)
    check: MonthCheck | str | None = None  # what CloudZero holds, or why it was not read now
    if cloudzero:
        try:
            check = check_in_cloudzero(target, truth)
        except PushUnderway as underway:
            check = str(underway)  # the rest of the month is still worth showing
    if as_json:
        _print_json(_month_json(truth, check))
        return EXIT_OK
    state = truth.state
    lines = [
        ("month", month),
        ("file", f"{truth.file_uri}  (accepted {truth.pointer.accepted_at or '-'})"),
        ("report", truth.report_uri),
        ("status", state.status),
        ("accounts", str(state.accounts)),
        ("total", format_money(state.total)),
        ("drop id", state.drop_id or "-"),
        ("pushed at", state.pushed_at or "-"),
        ("verified", _verified(state)),
    ]
    if state.error:
        lines.append(("why", state.error))
    lines += [
        ("differs", f"{d.account_id}: sent {format_money(d.sent)}, held {format_money(d.held)}")
        for d in state.differences
    ]
    if isinstance(check, str):
        lines.append(("CloudZero", f"not read now: {check}"))
    elif check is not None:
        lines.append(("CloudZero", check.summary() if check.matches else f"DIFFERS: {check.summary()}"))
    print("\n".join(f"{name:<10}{value}" for name, value in lines))
    return EXIT_OK


def _verified(state: MonthReport) -> str:
    if state.verified is None:
        return "not yet read back from CloudZero"
    said = f"{'yes' if state.verified else 'NO'}, read back at {state.verified_at}"
    if state.status not in READ_BACK_STATUSES:  # a later push failed or waits: the read-back is of the one before
        said += f" (the push at {state.pushed_at or '-'}, before the month became {state.status})"
    return said


# ---------------------------------------------------------------- a local file


def show_file(target: Target, path: Path, key: str | None, *, as_json: bool) -> int:
    key = key or f"{target.stack.incoming_prefix}{path.name}"
    sha256 = file_identity(_sha256(path), key)
    location = f"s3://{target.stack.bucket}/{report_key(sha256)}"
    raw = objects(target).get_json(target.stack.bucket, report_key(sha256))
    if raw is None:
        raise CommandError(
            f"no report at {location}: {path.name} was not uploaded as {key} (or not read yet); "
            f"upload it: aws s3 cp {path} s3://{target.stack.bucket}/{key}",
            EXIT_PROBLEM,
        )
    report = RunReport.model_validate_json(raw)
    if as_json:
        _print_json({**_file_json(report), "report": location})
        return EXIT_OK
    print(f"file      {path}  (as s3://{report.file.bucket}/{report.file.key})")
    print(f"report    {location}")
    print(
        f"outcome   {outcome(report)}"
        + (f"  (latest upload: {report.status})" if report.status != outcome(report) else "")
    )
    if report.error:
        print(f"why       {report.error}")
    for problem in report.problems[:10]:
        print(f"  - {problem}")
    if report.months:
        rows = [
            [month, month_state(state), str(state.accounts), format_money(state.total), state.drop_id or "-"]
            for month, state in sorted(report.months.items())
        ]
        print(aligned(["month", "status", "accounts", "total", "drop id"], rows, right=("accounts", "total")))
        for month, state in sorted(report.months.items()):
            if state.error:
                print(f"  {month}: {state.error}")
    print(
        f"total     {format_money(report.total)}; skipped {report.skipped_total} rows"
        + (
            " (" + ", ".join(f"{k} {v}" for k, v in report.skipped_by_reason.items()) + ")"
            if report.skipped_by_reason
            else ""
        )
    )
    for upload in report.uploads:
        print(
            f"upload    {upload.event_time or upload.recorded_at}  {upload.outcome:<9}  s3://{upload.bucket}/{upload.key}"
        )
    return EXIT_OK


def _sha256(path: Path) -> str:
    with path.open("rb") as data:
        return hashlib.file_digest(data, "sha256").hexdigest()


# ---------------------------------------------------------------- JSON


def _file_json(report: RunReport) -> dict[str, Any]:
    document: dict[str, Any] = report.model_dump(mode="json")
    document["outcome"] = outcome(report)
    document["report"] = f"s3://{report.file.bucket}/{report_key(report.file.sha256)}"
    return document


def _month_json(truth: MonthTruth, check: MonthCheck | str | None) -> dict[str, Any]:
    document: dict[str, Any] = {
        "month": truth.month,
        "file": truth.report.file.model_dump(mode="json"),
        "accepted_at": truth.pointer.accepted_at,
        "report": truth.report_uri,
        **truth.state.model_dump(mode="json"),
    }
    if isinstance(check, str):
        document["cloudzero"] = {"matches": None, "not_read": check}
    elif check is not None:
        document["cloudzero"] = {
            "matches": check.matches,
            "rows_sent": check.rows_sent,
            "rows_held": check.rows_held,
            "total_sent": format_money(check.total_sent),
            "total_held": format_money(check.total_held),
            "differences": [
                {"account_id": d.account_id, "sent": format_money(d.sent), "held": format_money(d.held)}
                for d in check.differences
            ],
            "differences_total": check.differences_total,
            "groups_not_compared": check.groups_not_compared,
        }
    return document


def _print_json(document: object) -> None:
    json.dump(document, sys.stdout, indent=2, ensure_ascii=False)
    print()


def _why(report: RunReport, limit: int = 100) -> str:
    """The report's error without the file's location (the table shows it), cut to fit a line."""
    text = (report.error or "").removeprefix(f"s3://{report.file.bucket}/{report.file.key}: ")
    return text if len(text) <= limit else text[: limit - 3] + "..."
