"""What the AnyCost Stream API accepts and rejects, and what it answers: pure functions, no state, no HTTP.

The rules follow CloudZero's AnyCost Stream API documentation ("Sending AnyCost Stream Data",
"Common Bill Format", "Idempotency"); where it is silent, the package docstring says what the emulator
decides.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any, Final

DEFAULT_API_KEY: Final = "local-emulator-key"
DEFAULT_MAX_BODY_BYTES: Final = 5_000_000


@dataclass(frozen=True)
class MonthLimits:
    """What one stream holds per month: "at most 1,000,000 rows and 70 MB in total" (bytes: the uncompressed
    bodies of the drops that make the month, since its last replace_drop)."""

    rows: int = 1_000_000
    bytes: int = 70_000_000


IDEMPOTENCY_HEADER: Final = "cloudzero-idempotency-key"
TEST_KEY_HEADER: Final = "cloudzero-test-key"

OPERATIONS: Final = frozenset({"replace_drop", "replace_hourly", "sum"})
LINE_ITEM_TYPES: Final = frozenset(
    {"Usage", "Tax", "Support", "Purchase", "CommittedUsePurchase", "Discount", "Credit", "Fee", "Adjustment"}
)
CBF_COLUMNS: Final = frozenset(
    {
        "lineitem/id",
        "lineitem/type",
        "lineitem/description",
        "time/usage_start",
        "time/usage_end",
        "resource/id",
        "resource/service",
        "resource/account",
        "resource/region",
        "resource/usage_family",
        "action/operation",
        "action/usage_type",
        "action/region",
        "action/account",
        "usage/amount",
        "usage/units",
        "cost/cost",
        "cost/discounted_cost",
        "cost/amortized_cost",
        "cost/discounted_amortized_cost",
        "cost/on_demand_cost",
        "bill/invoice_id",
        "k8s/cluster",
        "k8s/namespace",
        "k8s/deployment",
        "k8s/labels",
    }
)
TAG_PREFIX: Final = "resource/tag:"
REQUIRED_COLUMNS: Final = ("time/usage_start", "cost/cost")
NUMERIC_COLUMNS: Final = frozenset(
    {
        "usage/amount",
        "cost/cost",
        "cost/discounted_cost",
        "cost/amortized_cost",
        "cost/discounted_amortized_cost",
        "cost/on_demand_cost",
    }
)
MAX_SHOWN_ERRORS: Final = 10

# Every pattern is matched whole (`fullmatch`: no trailing newline slips past a `$`) and with ASCII
# classes only (`[0-9]`, not `\d`, which also takes other scripts' digits: Arabic-Indic, fullwidth...).
_ISO_DATETIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})?"
)
_YEAR_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")
_PLAIN_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?")
# "Tag keys (`resource/tag:<key>`) allow letters, digits and `_ . : / = + - @` only, no spaces."
_TAG_KEY = re.compile(r"[A-Za-z0-9_.:/=+@-]+")

Row = dict[str, str]
# (method, path, idempotency key): CloudZero scopes a key "to path and method only" (not the test key).
IdempotencyScope = tuple[str, str, str]


@dataclass
class Answer:
    """An API answer: status, JSON body and extra headers."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ParsedDrop:
    """A billing drop that passed validation."""

    month: str  # "2026-01"
    operation: str
    rows: list[Row]


# --- auth and idempotency ---------------------------------------------------------------------------------


def is_authorised(authorization: str | None, api_key: str) -> bool:
    """The `Authorization` header must be the bare API key: no `Bearer `, no padding."""
    return authorization == api_key


def forbidden() -> Answer:
    return Answer(403, {"message": "Forbidden: the Authorization header must be the API key"})


def idempotency_scope(method: str, path: str, key: str | None) -> IdempotencyScope | None:
    """Where an answer is cached: per method, path and key; None when no key was sent.

    Neither the body nor the `cloudzero-test-key` is part of it: a reused key replays the first answer
    (whatever namespace it came from) and drops the new data.
    """
    return None if key is None else (method, path, key)


# --- months and hours -------------------------------------------------------------------------------------


def month_key(value: str) -> str | None:
    """`2026-01` or an ISO 8601 datetime (`2026-01-01T00:00:00Z`) -> "2026-01"; None when neither.

    The month is the calendar month as written: an offset does not move it to another month.
    """
    match = _YEAR_MONTH.fullmatch(value)
    if match:
        year, month = int(match.group(1)), int(match.group(2))
        return f"{year:04d}-{month:02d}" if 1 <= month <= 12 else None
    if not _ISO_DATETIME.fullmatch(value):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return f"{parsed.year:04d}-{parsed.month:02d}"


def month_iso(month: str) -> str:
    """Month "2026-01" -> "2026-01-01T00:00:00Z", the form the emulator answers with."""
    return f"{month}-01T00:00:00Z"


def usage_hour(value: str) -> datetime | None:
    """`time/usage_start` as a UTC datetime snapped to its hour (naive values are UTC); None if invalid."""
    try:
        parsed = datetime.fromisoformat(value)
        parsed = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (ValueError, OverflowError):  # OverflowError: an offset that moves year 1 or 9999 out of range
        return None
    return parsed.replace(minute=0, second=0, microsecond=0)


def held_row(row: Row) -> Row:
    """A valid row as a month holds it: "`time/usage_start` is snapped to the start of its hour;
    `time/usage_end` is ignored" (so it is not held). The snapped hour is written in UTC with a `Z`."""
    hour = usage_hour(row["time/usage_start"])
    assert hour is not None  # validated
    held = {column: value for column, value in row.items() if column != "time/usage_end"}
    held["time/usage_start"] = hour.replace(tzinfo=None).isoformat() + "Z"  # isoformat: years below 1000 keep 4 digits
    return held


# --- billing drop validation ------------------------------------------------------------------------------


def _row_errors(index: int, row: object, month: str | None) -> list[str]:
    if not isinstance(row, dict):
        return [f"row {index}: must be a JSON object"]
    errors: list[str] = []
    for column, value in row.items():
        if column.startswith(TAG_PREFIX):
            if not _TAG_KEY.fullmatch(column.removeprefix(TAG_PREFIX)):
                errors.append(
                    f"row {index}: tag column {column!r}: a tag key is letters, digits and _ . : / = + - @ only"
                )
        elif column not in CBF_COLUMNS:
            errors.append(f"row {index}: unknown column {column!r}")
        if not isinstance(value, str):
            errors.append(f"row {index}: value of {column!r} must be a string, got {type(value).__name__}")
        elif column in NUMERIC_COLUMNS and not _PLAIN_DECIMAL.fullmatch(value):
            errors.append(f"row {index}: {column} {value!r} is not a plain decimal string")
    for column in REQUIRED_COLUMNS:
        if column not in row:
            errors.append(f"row {index}: required column {column!r} is missing")
    line_type = row.get("lineitem/type")
    if isinstance(line_type, str) and line_type not in LINE_ITEM_TYPES:
        errors.append(f"row {index}: lineitem/type {line_type!r} is not one of {sorted(LINE_ITEM_TYPES)}")
    if any(column.startswith(TAG_PREFIX) for column in row) and "resource/id" not in row:
        errors.append(f"row {index}: resource/tag columns need resource/id")
    start = row.get("time/usage_start")
    if isinstance(start, str):
        hour = usage_hour(start)
        if hour is None:
            errors.append(f"row {index}: time/usage_start {start!r} is not an ISO 8601 datetime")
        elif month is not None and f"{hour.year:04d}-{hour.month:02d}" != month:
            errors.append(f"row {index}: time/usage_start {start!r} is outside the drop's month {month}")
    return errors


def validate_drop(payload: object) -> tuple[ParsedDrop | None, list[str]]:
    """Check a decoded billing drop against the API's rules: (drop, []) or (None, errors)."""
    if not isinstance(payload, dict):
        return None, ["body must be a JSON object"]
    errors: list[str] = []
    month: str | None = None
    raw_month = payload.get("month")
    if not isinstance(raw_month, str):
        errors.append("month is required: an ISO 8601 datetime such as 2026-01-01T00:00:00Z")
    elif not _ISO_DATETIME.fullmatch(raw_month) or (month := month_key(raw_month)) is None:
        errors.append(f"month {raw_month!r} is not an ISO 8601 datetime (YYYY-MM-DDTHH:MM:SS[.f][Z|+hh:mm])")
    operation = payload.get("operation", "replace_drop")
    if not isinstance(operation, str) or operation not in OPERATIONS:
        errors.append(f"operation {operation!r} is not one of {sorted(OPERATIONS)}")
    data = payload.get("data")
    if not isinstance(data, list):
        errors.append("data is required and must be a list of CBF rows")
        data = []
    for index, row in enumerate(data):
        errors.extend(_row_errors(index, row, month))
    if errors:
        return None, errors
    assert month is not None  # no errors means the month parsed
    return ParsedDrop(month=month, operation=str(operation), rows=[dict(row) for row in data]), []


def drop_month(payload: object) -> str | None:
    """The month a (possibly invalid) drop body names, "2026-01", or None when it names none."""
    raw = payload.get("month") if isinstance(payload, dict) else None
    return month_key(raw) if isinstance(raw, str) else None


def drop_operation(payload: object) -> str | None:
    """The operation a (possibly invalid) drop body asks for; an absent one means replace_drop."""
    if not isinstance(payload, dict):
        return None
    operation = payload.get("operation", "replace_drop")
    return operation if isinstance(operation, str) else None


def drop_row_count(payload: object) -> int | None:
    data = payload.get("data") if isinstance(payload, dict) else None
    return len(data) if isinstance(data, list) else None


def is_over_limit(size: int, limit: int) -> bool:
    """The body limit applies to the uncompressed bytes."""
    return size > limit


def too_large(limit: int) -> Answer:
    return Answer(413, {"message": f"Request body exceeds {limit} bytes"})


def month_over_limit(rows: int, size: int, limits: MonthLimits) -> str | None:
    """Why a month with `rows` rows made of `size` body bytes is more than a stream holds, if it is."""
    if rows > limits.rows:
        return f"the month would hold {rows} rows, more than the {limits.rows} a stream holds per month"
    if size > limits.bytes:
        return (
            f"the month would hold {size} bytes of billing drops, more than the {limits.bytes} a stream holds per month"
        )
    return None


def month_full(reason: str) -> Answer:
    return error(400, f"billing drop refused: {reason}")


def invalid_drop(errors: list[str]) -> Answer:
    shown = errors[:MAX_SHOWN_ERRORS]
    more = f"; and {len(errors) - len(shown)} more" if len(errors) > len(shown) else ""
    return error(400, f"invalid billing drop ({len(errors)} errors): " + "; ".join(shown) + more)


def validation_result(errors: list[str]) -> Answer:
    """POST validate_billing_drop: always 200, problems (malformed JSON included) in `errors`."""
    return Answer(200, {"connection": {"is_valid": not errors, "errors": errors}})


# --- operations -------------------------------------------------------------------------------------------


def apply_operation(existing: list[Row], drop: ParsedDrop) -> list[Row]:
    """A month's rows after a drop; the drop's rows always come last, as held (see held_row).

    replace_drop: the drop is the month. replace_hourly: rows in the hours the drop covers are replaced.
    sum: the drop is appended.
    """
    new_rows = [held_row(row) for row in drop.rows]
    if drop.operation == "replace_drop":
        return new_rows
    if drop.operation == "replace_hourly":
        hours = {usage_hour(row["time/usage_start"]) for row in new_rows}
        kept = [dict(row) for row in existing if usage_hour(row["time/usage_start"]) not in hours]
        return kept + new_rows
    return [dict(row) for row in existing] + new_rows


def accepted(drop_id: str, month: str, row_count: int) -> Answer:
    """POST billing_drops 200: `row_count` is the rows of this drop."""
    return Answer(200, {"connection": {"drop_id": drop_id, "month": month_iso(month), "row_count": row_count}})


# --- reads ------------------------------------------------------------------------------------------------


def listing(months: list[tuple[str, str, int]]) -> Answer:
    """GET billing_drops: (month, latest drop id, the month's current row count) per month."""
    return Answer(
        200,
        {
            "billing_drops": [
                {"drop_id": drop_id, "month": month_iso(month), "row_count": row_count}
                for month, drop_id, row_count in months
            ]
        },
    )


def month_read(rows: list[Row] | None, connection_id: str, month: str) -> Answer:
    if rows is None:
        return error(404, f"no billing drop for connection {connection_id} in {month}")
    return Answer(200, {"billing_drop": rows})


def unreadable_month(raw: str) -> Answer:
    return error(400, f"month {raw!r} is neither YYYY-MM nor an ISO 8601 datetime")


# --- connections ------------------------------------------------------------------------------------------


def is_known_connection(connection_id: str, connections: frozenset[str] | None) -> bool:
    """Whether the account has the connection; None (no list given) means every id is one."""
    return connections is None or connection_id in connections


def connection_health(connection_id: str) -> Answer:
    """GET /v2/connections/billing/{id} 200: the connection's record (its shape is the emulator's choice)."""
    return Answer(200, {"connection": {"id": connection_id, "type": "anycost"}})


def unknown_connection(connection_id: str) -> Answer:
    return error(404, f"no billing connection {connection_id}")


# --- error shapes -----------------------------------------------------------------------------------------


def error(status: int, message: str) -> Answer:
    """An error answer shaped as the API does: 400/404 nest it under "error", others do not."""
    if status in (400, 404):
        return Answer(status, {"error": {"message": message, "type": _error_type(status)}})
    return Answer(status, {"message": message})


def status_phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _error_type(status: int) -> str:
    return {400: "ValidationError", 404: "NotFound"}[status]
