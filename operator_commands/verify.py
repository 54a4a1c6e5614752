"""Check now that CloudZero holds a month exactly as it was sent.

The month's truth is its latest accepted file (the month pointer in the stack's table -> that file's
report -> the month's batch in the bucket). CloudZero's rows for the month are compared with the batch:
row count, each account's total, the month's total. The result is written to the file's report (the
month's `verified`, `verified_at`, `differences`; a mismatch makes it `unverified`, a match after a
mismatch makes it `pushed` again) unless --no-record, and only if the push it read is still the month's
latest. Nothing is read while a push is queued or in flight (CloudZero takes one request at a time).
Exit status: 0 when CloudZero holds exactly what was sent, 1 when not (the differences are listed), while
a push is under way, or when the month was pushed again while it read (nothing recorded), 2 when the check
cannot be made, or was made (and is shown) but AWS refused to record it.
"""

import argparse
import json
import sys

from botocore.exceptions import BotoCoreError, ClientError

from credits_pipeline.domain.money import format_money
from credits_pipeline.domain.report import READ_BACK_STATUSES, PushedAgain, RunReport
from credits_pipeline.domain.verification import MonthCheck
from credits_pipeline.services.report_book import ReportBook
from operator_commands.cli import Target, command_parser, open_stack, run
from operator_commands.errors import EXIT_OK, EXIT_PROBLEM, EXIT_USAGE, CommandError, explain
from operator_commands.months import MonthTruth, check_in_cloudzero, month_truth, objects, records
from operator_commands.text import aligned

PROG = "credits-verify"
EXAMPLES = (
    "credits-verify --month 2026-01",
    "credits-verify --month 2026-01 --no-record --json",
    "python scripts/verify.py --month 2026-01 --stack-name credits-pipeline --region eu-west-1",
)


def parser() -> argparse.ArgumentParser:
    parser = command_parser(PROG, __doc__.split("\n\n")[0] if __doc__ else "", EXAMPLES)
    parser.add_argument("--month", required=True, help="YYYY-MM")
    parser.add_argument("--no-record", action="store_true", help="only compare; leave the report as it is")
    parser.add_argument("--json", action="store_true", help="one JSON document, for scripts")
    return parser


def main(argv: list[str] | None = None) -> int:
    return run(parser(), verify, argv)


def verify(args: argparse.Namespace) -> int:
    target = open_stack(args)
    truth = month_truth(target, args.month)
    check = check_in_cloudzero(target, truth)
    # Only a month pushed from its truth file has a read-back to record; any other is only compared.
    recorded = not args.no_record and truth.state.status in READ_BACK_STATUSES
    unrecorded = ""  # AWS refused the record: the comparison still stands, and is shown
    if recorded:
        try:
            _record(target, truth, check)
        except (BotoCoreError, ClientError) as error:
            recorded, unrecorded = False, explain(error, region=target.session.region_name)
    if args.json:
        print(
            json.dumps(
                {
                    "month": args.month,
                    "file": truth.file_uri,
                    "report": truth.report_uri,
                    "status": truth.state.status,
                    "matches": check.matches,
                    "summary": check.summary(),
                    "differences": [
                        {"account_id": d.account_id, "sent": format_money(d.sent), "held": format_money(d.held)}
                        for d in check.differences
                    ],
                    "differences_total": check.differences_total,
                    "groups_not_compared": check.groups_not_compared,
                    "recorded": recorded,
                },
                indent=2,
            )
        )
        return _not_recorded(args.month, unrecorded) if unrecorded else EXIT_OK if check.matches else EXIT_PROBLEM
    print(f"{args.month} from {truth.file_uri} (status {truth.state.status}, drop {truth.state.drop_id or '-'})")
    if check.matches:
        print(f"verified: {check.summary()}")
    else:
        print(f"NOT AS SENT: {check.summary()}")
        if check.differences:
            rows = [[d.account_id, format_money(d.sent), format_money(d.held)] for d in check.differences]
            print(aligned(["account", "sent", "held"], rows, right=("sent", "held")))
            if check.differences_total > len(check.differences):
                at_least = "at least " if check.groups_not_compared else ""
                print(f"... {at_least}{check.differences_total - len(check.differences)} more accounts differ")
        print(
            f"to send the month again from its file: credits-replay --month {args.month} "
            f"--stack-name {target.stack.name}"
        )
    if recorded:
        print(f"recorded in {truth.report_uri}")
    elif unrecorded:
        return _not_recorded(args.month, unrecorded)
    elif not args.no_record:
        print(f"not recorded: the month is {truth.state.status} in {truth.report_uri}, not pushed")
    return EXIT_OK if check.matches else EXIT_PROBLEM


def _not_recorded(month: str, why: str) -> int:
    again = f"run credits-verify --month {month} again to record it"
    print(f"{PROG}: not recorded in full ({why}): {again}", file=sys.stderr)
    return EXIT_USAGE


def _record(target: Target, truth: MonthTruth, check: MonthCheck) -> None:
    """Record the check unless the month was pushed again while CloudZero was read (a replay, a newer file):
    the pusher reads that push back itself, and an older read recorded over it would hide what it found."""
    book = records(target)
    again = CommandError(
        f"{truth.month} was pushed again, or queued to be, while credits-verify read CloudZero: nothing recorded; "
        f"run credits-verify again once it is pushed (credits-status --month {truth.month} shows it)",
        EXIT_PROBLEM,
    )
    pointer = book.month_pointer(truth.month)
    if pointer is None or pointer.sha256 != truth.pointer.sha256:
        raise again

    def checked(report: RunReport) -> None:
        report.record_check(truth.month, check, read=truth.state)

    try:
        ReportBook(book, objects(target)).update(truth.report.file.sha256, checked)
    except PushedAgain:
        raise again from None
