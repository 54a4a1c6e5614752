"""What `make local` and `make local-up` share: the local folder, the function log, a file's verdict."""

import ipaddress
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO
from urllib.parse import urlsplit

from credits_pipeline.domain.money import format_money
from credits_pipeline.domain.report import RunReport
from credits_pipeline.domain.text import safe_text
from local_stack.runner import REPO
from operator_commands.text import month_state, outcome

# Ignored by git: reports, function logs and the running local stack's pid and environment.
LOCAL_DIR = REPO / ".local"


def log_path(local_dir: Path, name: str) -> Path:
    """A fresh file for the functions' log lines (JSON), under <local dir>/logs/."""
    logs = local_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    return logs / f"{name}-{datetime.now(UTC).strftime('%Y%m%d-%H%M%S')}.log"


@contextmanager
def server_errors_to(log: TextIO) -> Iterator[None]:
    """moto's HTTP server reports the calls moto does not implement with a traceback: into the log, not
    onto the terminal (the operator command that made the call says what happened); as before afterwards,
    since the log is closed then."""
    server_log = logging.getLogger("werkzeug")
    before = server_log.handlers, server_log.propagate
    server_log.handlers, server_log.propagate = [logging.StreamHandler(log)], False
    try:
        yield
    finally:
        server_log.handlers, server_log.propagate = before


def save_report(local_dir: Path, report: RunReport) -> Path:
    """The run report, as the bucket holds it, under <local dir>/reports/<sha256>.json."""
    reports = local_dir / "reports"
    reports.mkdir(parents=True, exist_ok=True)
    path = reports / f"{report.file.sha256}.json"
    path.write_text(report.model_dump_json(indent=2) + "\n", encoding="utf-8")
    return path


def is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def shown_state(report: RunReport) -> tuple[str, tuple[tuple[str, str | None, str | None], ...]]:
    """What a file's printed line stands for: its verdict and each month's push (its drop: a replay within the
    same second has the same `pushed_at`). A check that finds the month as it was (a credits-verify) changes
    the report, not this; a replay's push does."""
    pushes = tuple((month, state.drop_id, state.pushed_at) for month, state in sorted(report.months.items()))
    return verdict(report), pushes


def verdict(report: RunReport) -> str:
    """One line: what landed, what was skipped, what failed."""
    result = outcome(report)
    if result == "rejected":
        return f"rejected: nothing sent to CloudZero: {report.error}"
    landed = [
        f"{month} ({state.accounts} accounts, {format_money(state.total)}"
        + (", verified" if state.verified else "")
        + ")"
        for month, state in sorted(report.months.items())
        if state.status == "pushed"
    ]
    failed = [
        f"{month} {month_state(state)}" + (f" ({safe_text(state.error, limit=200)})" if state.error else "")
        for month, state in sorted(report.months.items())
        if state.status != "pushed"
    ]
    reasons = ", ".join(f"{reason} {count}" for reason, count in report.skipped_by_reason.items())
    skipped = f"skipped {report.skipped_total} rows" + (f" ({reasons})" if reasons else "")
    # The same bytes again: what the first upload did, nothing more sent.
    again = "duplicate upload, nothing sent again; " if report.status == "duplicate" else ""
    landed_text = ", ".join(landed) or "nothing"
    return f"{again}{result}: landed {landed_text}; {skipped}; failed: {', '.join(failed) or 'none'}"
