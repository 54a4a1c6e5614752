"""What the pipeline would decide for a local credit file, without sending anything.

It calls the pipeline's own functions (`read_credit_file`, `MonthBatch.from_month_credits`,
`month_batches.month_bodies`), so it decides exactly as the splitter and pusher would: the detected format
and version, the months with their accounts and totals, every skipped row with its reason, a month beyond
what CloudZero holds, and with `--cbf` the Common Bill Format rows and the `replace_drop` bodies. The
month of a headerless file comes from the object key: `--name` gives the key it would be uploaded as
(default `incoming/<file name>`). The settings are the splitter's defaults and the options given; with
`--from-stack` they are the deployed splitter's (read from the stack's function, column mappings
included), so a fixed setting can be tried before `credits-reprocess`. Exit status: 0 when the file
would be accepted, 1 when it would be rejected (the reason and first problems are printed), 2 for a
bad command line or mapping file, or a stack that cannot be read.
"""

import argparse
import hashlib
import json
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from credits_pipeline.adapters.s3 import ObjectStore
from credits_pipeline.domain.cbf import MonthLimit, cbf_rows
from credits_pipeline.domain.credits import CreditFile
from credits_pipeline.domain.identity import file_identity
from credits_pipeline.domain.messages import FileRef, MonthBatch
from credits_pipeline.domain.money import format_money
from credits_pipeline.formats import (
    FileRejected,
    InvalidColumnMapping,
    ParseConfig,
    read_credit_file,
    validate_column_mappings,
)
from credits_pipeline.services.month_batches import MonthBeyondLimit, beyond_limit_reason, month_bodies, months_beyond
from credits_pipeline.wiring.settings import SettingsError, load_settings_from
from credits_pipeline.wiring.splitter_settings import SplitterSettings
from operator_commands.cli import command_parser, open_stack, run
from operator_commands.errors import EXIT_OK, EXIT_PROBLEM, EXIT_USAGE, CommandError

EXIT_ACCEPTED, EXIT_REJECTED = EXIT_OK, EXIT_PROBLEM
PROG = "credits-preview"
EXAMPLES = (
    "credits-preview credits-2026-01.csv",
    "credits-preview export.csv.gz --name incoming/credits-2025-01_2025-12.csv",
    "credits-preview cur.parquet --cbf                 # plus the CloudZero bodies, row by row",
    "credits-preview file.csv --known-accounts 123456789012,210987654321 --max-invalid-share 0.05",
    "credits-preview sheet.csv --mappings mappings.json --json",
    "credits-preview credits-eur.csv --from-stack --currencies USD,EUR   # the deployed settings, one changed",
)


def _split(value: str) -> frozenset[str]:
    return frozenset(item.strip() for item in value.replace(";", ",").split(",") if item.strip())


def _share(value: str) -> Decimal:
    try:
        share = Decimal(value)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if not 0 <= share <= 1:
        raise argparse.ArgumentTypeError("a share between 0 and 1")
    return share


def parser() -> argparse.ArgumentParser:
    parser = command_parser(PROG, __doc__.split("\n\n")[0] if __doc__ else "", EXAMPLES)
    parser.add_argument("file", type=Path, help="the local credit file (any supported format)")
    parser.add_argument("--name", help="the S3 key it would be uploaded as (default incoming/<file name>)")
    parser.add_argument("--cbf", action="store_true", help="also print the CBF rows and drop bodies per month")
    parser.add_argument("--from-stack", action="store_true", help="start from the deployed splitter's settings")
    parser.add_argument("--known-accounts", type=_split, help="comma list of account ids; others are skipped")
    parser.add_argument("--max-invalid-share", type=_share, help="share of invalid rows that rejects the file")
    parser.add_argument("--currencies", type=_split, help="currencies a file may carry (default USD)")
    parser.add_argument("--mappings", type=Path, help="a JSON file of column mappings (as the splitter loads)")
    parser.add_argument(
        "--account-id-padding", choices=["pad", "refuse"], help="short account ids: pad them (default) or refuse them"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of text")
    return parser


def build_config(args: argparse.Namespace) -> tuple[ParseConfig, MonthLimit]:
    """The splitter's config and CloudZero month limit: its settings' defaults (not the environment) or the
    deployed ones, with the options given."""
    fields: dict[str, Any] = {}
    if args.known_accounts:
        fields["known_accounts"] = args.known_accounts
    if args.max_invalid_share is not None:
        fields["max_invalid_share"] = args.max_invalid_share
    if args.currencies:
        fields["currencies"] = args.currencies
    if args.account_id_padding:
        fields["account_id_padding"] = args.account_id_padding
    mappings: tuple[dict[str, object], ...] = ()
    if args.mappings:
        mappings = validate_column_mappings(json.loads(args.mappings.read_text(encoding="utf-8")))
    if not args.from_stack:
        settings = SplitterSettings.model_construct(**fields)
        return settings.parse_config(mappings), settings.month_limit
    deployed, deployed_mappings = _deployed_settings(args)
    settings = deployed.model_copy(update=fields)
    return settings.parse_config(mappings or deployed_mappings), settings.month_limit


def _deployed_settings(args: argparse.Namespace) -> tuple[SplitterSettings, tuple[dict[str, object], ...]]:
    """The splitter's settings as the stack deployed them: its function's environment, its mappings."""
    target = open_stack(args)
    function = target.stack.output("SplitterFunctionName")
    configuration = target.session.client("lambda").get_function_configuration(FunctionName=function)
    variables = {key: value or "" for key, value in configuration.get("Environment", {}).get("Variables", {}).items()}
    try:
        settings = load_settings_from(SplitterSettings, variables)
    except SettingsError as error:
        raise CommandError(f"the deployed splitter {function}: {error}") from error
    if not settings.column_mappings_uri:
        return settings, ()
    loaded = ObjectStore(target.session.client("s3")).load_json(settings.column_mappings_uri)
    return settings, validate_column_mappings(loaded)


def preview(path: Path, name: str, config: ParseConfig, cbf: bool, limit: MonthLimit | None = None) -> dict[str, Any]:
    """The pipeline's decision for a file, as plain data (money as decimal strings)."""
    content_sha256 = _sha256(path)
    with path.open("rb") as data:
        try:
            credit_file = read_credit_file(data, name, config)
        except FileRejected as rejection:
            return _rejected(path, name, rejection)
    # The splitter's last check: a month beyond what CloudZero holds rejects the file before anything is sent.
    limit = limit or MonthLimit()
    drops: dict[str, list[dict[str, Any]]] = {}
    beyond = months_beyond(credit_file.months, limit)
    try:
        for month, credits in credit_file.months.items() if not beyond else ():
            drops[month] = [
                {"chunk": body.chunk, "operation": body.operation, "rows": body.rows, "bytes": len(body.body)}
                for body in (prepared.body for prepared in month_bodies(credits, limit))
            ]
    except MonthBeyondLimit as error:
        beyond = [str(error)]
    if beyond:
        return _rejected(path, name, FileRejected(beyond_limit_reason(beyond), format_id=credit_file.format_id))
    file = FileRef(
        bucket="local",
        key=name,
        sha256=file_identity(content_sha256, name),
        format=credit_file.format_id,
        content_sha256=content_sha256,
    )
    return _accepted(path, name, file, credit_file, drops if cbf else None)


def _rejected(path: Path, name: str, rejection: FileRejected) -> dict[str, Any]:
    return {
        "file": str(path),
        "name": name,
        "status": "rejected",
        "format": rejection.format_id,
        "reason": str(rejection),
        "problems": rejection.problems,
        "problem_counts": rejection.problem_counts,
    }


def _accepted(
    path: Path, name: str, file: FileRef, credit_file: CreditFile, drops: dict[str, list[dict[str, Any]]] | None
) -> dict[str, Any]:
    months: dict[str, Any] = {}
    for month, credits in credit_file.months.items():
        batch = MonthBatch.from_month_credits(file, credits)
        entry: dict[str, Any] = {"accounts": batch.accounts, "total": format_money(batch.total)}
        entry["credits"] = [
            {
                "account_id": credit.account_id,
                "cost": format_money(credit.cost),
                "service": credit.service,
                "description": credit.description,
            }
            for credit in batch.credits
        ]
        if drops is not None:
            entry["cbf_rows"] = cbf_rows(batch)
            entry["drops"] = drops[month]
        months[month] = entry
    return {
        "file": str(path),
        "name": name,
        "status": "accepted",
        "format": credit_file.format_id,
        "format_title": credit_file.format_title,
        "layout": credit_file.layout,
        "amount_column": credit_file.amount_column,
        "sign_rule": credit_file.sign_rule,
        "month_source": credit_file.month_source,
        "columns": credit_file.columns,
        "currency": credit_file.currency,
        "months": months,
        "total": format_money(credit_file.total),
        "credit_rows": credit_file.credit_rows,
        "ignored_rows": credit_file.ignored_rows,
        "ignored_by_type": credit_file.ignored_by_type,
        "skipped_total": credit_file.skipped_total,
        "skipped_by_reason": credit_file.skipped_by_reason,
        "skipped": [
            {"line": s.line, "account_id": s.account_id, "reason": s.reason, "category": s.category}
            for s in credit_file.skipped
        ],
        "padded_total": credit_file.padded_total,
        "padded_ids": [{"line": line, "account_id": account} for line, account in credit_file.padded_ids],
        "line_unit": credit_file.line_unit,
        "notes": credit_file.notes,
        "sha256": file.sha256,
    }


def _sha256(path: Path) -> str:
    with path.open("rb") as data:
        return hashlib.file_digest(data, "sha256").hexdigest()


def render(result: dict[str, Any]) -> str:
    """The preview as text for a terminal."""
    lines = [f"file     {result['file']}  (as {result['name']})"]
    if result["status"] == "rejected":
        if result.get("format"):
            lines.append(f"format   {result['format']}")
        lines.append(f"REJECTED {result['reason']}")
        lines += [f"  - {problem}" for problem in result["problems"]]
        lines.append("nothing would be sent to CloudZero")
        return "\n".join(lines)
    lines += [
        f"format   {result['format']}  ({result['format_title']})",
        f"layout   {result['layout']}",
        f"amount   {result['amount_column']}",
        f"sign     {result['sign_rule']}",
        f"month    from {result['month_source']}",
        "columns  " + ", ".join(f"{role}={column}" for role, column in result["columns"].items()),
    ]
    if result["currency"]:
        lines.append(f"currency {result['currency']}")
    lines += ["", f"{'month':<9}{'accounts':>9}  {'total':>20}"]
    for month, entry in result["months"].items():
        lines.append(f"{month:<9}{entry['accounts']:>9}  {entry['total']:>20}")
    lines.append(f"{'total':<9}{'':>9}  {result['total']:>20}")
    unit = result["line_unit"]
    lines += ["", f"credit rows {result['credit_rows']}, ignored rows {result['ignored_rows']}"]
    if result["ignored_by_type"]:
        lines.append("  ignored: " + ", ".join(f"{kind} {count}" for kind, count in result["ignored_by_type"].items()))
    if result["skipped_total"]:
        by_reason = ", ".join(f"{kind} {count}" for kind, count in result["skipped_by_reason"].items())
        lines.append(f"skipped {result['skipped_total']} ({by_reason}):")
        lines += [f"  {unit} {s['line']:>7}  {s['account_id'] or '-':<14} {s['reason']}" for s in result["skipped"]]
        if result["skipped_total"] > len(result["skipped"]):
            lines.append(f"  ... {result['skipped_total'] - len(result['skipped'])} more, counted above")
    else:
        lines.append("skipped 0")
    if result["padded_total"]:
        lines.append(f"padded {result['padded_total']} account ids written with fewer than 12 digits (check them):")
        lines += [f"  {unit} {p['line']:>7}  {p['account_id']}" for p in result["padded_ids"][:20]]
    lines += [f"note: {note}" for note in result["notes"]]
    for month, entry in result["months"].items():
        if "cbf_rows" not in entry:
            continue
        drops = ", ".join(f"{d['operation']} ({d['rows']} rows, {d['bytes']} bytes)" for d in entry["drops"])
        lines += ["", f"CBF {month}: {drops}"]
        lines += [json.dumps(row, ensure_ascii=False) for row in entry["cbf_rows"]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    return run(parser(), preview_command, argv)


def preview_command(args: argparse.Namespace) -> int:
    if not args.file.is_file():
        raise CommandError(f"no such file: {args.file}")
    name = args.name or f"incoming/{args.file.name}"
    try:
        config, limit = build_config(args)
        result = preview(args.file, name, config, args.cbf, limit)
    except (InvalidColumnMapping, json.JSONDecodeError, OSError) as error:
        raise CommandError(str(error), EXIT_USAGE) from error
    print(json.dumps(result, indent=2, ensure_ascii=False) if args.json else render(result))
    return EXIT_ACCEPTED if result["status"] == "accepted" else EXIT_REJECTED
