"""Row outcomes -> per-account, per-month credits, with every skip and rejection decided here.

Pure: the splitter and the preview command both call `normalise`, so they decide alike. Memory is
bounded by the number of distinct (month, account, service, description) keys, not by rows: each
credit keeps at most `max_lines_per_credit` line numbers, and only the first skipped rows are
kept in full (the rest are counted).
"""

import re
from collections import Counter
from collections.abc import Callable, Iterable
from decimal import Decimal, localcontext

from credits_pipeline.domain.credits import (
    EXACT,
    AccountCredit,
    CreditColumns,
    CreditFile,
    IgnoredRow,
    MonthCredits,
    RowOutcome,
    SkippedRow,
)
from credits_pipeline.domain.money import format_money
from credits_pipeline.domain.months import MAX_RANGE_MONTHS
from credits_pipeline.domain.text import safe_text
from credits_pipeline.formats.base import (
    CreditBlock,
    CreditGroup,
    DuplicatePolicy,
    FileRejected,
    FormatInfo,
    FormatRow,
    IgnoredRows,
    ParseConfig,
    TotalCheck,
)

PROBLEMS_LISTED = 20
_MAX_KINDS = 100
# Text a report keeps from one row (an id, a reason quoting a cell, a row type): the report is one
# DynamoDB item (400 KB at most) listing hundreds of rows, and a cell can be 128 KB.
MAX_ROW_TEXT = 200
_VALUE_IN_REASON = re.compile(r"'[^']*'|\"[^\"]*\"|\d+")


_Key = tuple[str, str, str, str]  # month, account, service, description


def reason_kind(reason: str) -> str:
    """A reason without its values: `account id '1.1E+11' is ...` -> `account id … is ...`."""
    return _VALUE_IN_REASON.sub("…", reason)


class _Counts:
    """Counters whose number of distinct keys is capped: a broken file cannot grow them forever."""

    def __init__(self) -> None:
        self.counter: Counter[str] = Counter()

    def add(self, key: str, count: int = 1) -> None:
        key = _short(key)
        if key not in self.counter and len(self.counter) >= _MAX_KINDS:
            key = "(other)"
        self.counter[key] += count


def normalise(
    format_id: str,
    duplicate_policy: DuplicatePolicy,
    rows: Iterable[RowOutcome | IgnoredRows] | Iterable[FormatRow],
    config: ParseConfig,
    *,
    info: FormatInfo | None = None,
) -> CreditFile:
    """Combine a format's rows into month credits; raise FileRejected when the file must not be sent."""
    sums: dict[_Key, Decimal] = {}
    first_line: dict[_Key, int] = {}
    lines: dict[_Key, list[int]] = {}
    row_counts: dict[_Key, int] = {}
    skipped: list[SkippedRow] = []
    skipped_by_reason: Counter[str] = Counter()
    skipped_total = 0
    invalid = 0
    credit_rows = 0
    ignored = _Counts()
    currencies = _Counts()
    currency_lines: dict[str, int] = {}  # each currency's first line (a block's rows have none)
    invalid_kinds = _Counts()
    problems: list[str] = []
    listed_kinds: list[str] = []  # each listed problem's kind, as invalid_kinds counts it
    known = config.known_accounts
    unit = info.line_unit if info else "line"
    line_cap = max(config.max_lines_per_credit, 1)

    def skip(row: SkippedRow) -> None:
        nonlocal skipped_total, invalid
        skipped_total += 1
        skipped_by_reason[row.category] += 1
        if len(row.reason) > MAX_ROW_TEXT or len(row.account_id or "") > MAX_ROW_TEXT:
            kept = SkippedRow(row.line, row.account_id and _short(row.account_id), _short(row.reason), row.category)
        else:
            kept = row
        if row.category == "invalid":
            invalid += 1
            kind = reason_kind(row.reason)
            invalid_kinds.add(kind)
            if len(problems) < PROBLEMS_LISTED:
                problems.append(f"{unit} {row.line}: {kept.reason}")
                listed_kinds.append(_short(kind))
        if len(skipped) < config.skipped_detail_limit:
            skipped.append(kept)

    def currency(name: str, count: int = 1, line: int | None = None) -> None:
        currencies.add(name, count)
        if line is not None and (name in currency_lines or len(currency_lines) < _MAX_KINDS):
            currency_lines[name] = min(line, currency_lines.get(name, line))

    def rejected(reason: str, line: int | None = None) -> FileRejected:
        listed = list(problems)
        if invalid > len(problems):
            rest = Counter(invalid_kinds.counter)
            for kind in listed_kinds:  # the listed ones are not "the rest"
                if rest[kind] > 0:
                    rest[kind] -= 1
            summary = "; ".join(f"{count} x {kind}" for kind, count in rest.most_common(10) if count)
            listed.append(f"… and {invalid - len(problems)} more invalid rows: {summary}")
        return FileRejected(
            reason,
            line=line,
            problems=listed,
            problem_counts=dict(invalid_kinds.counter),
            problems_total=invalid,
        )

    padded_ids: list[tuple[int, str]] = []
    padded_total = 0
    checks: list[TotalCheck] = []
    blocks: dict[str, CreditColumns] = {}
    # Once summed groups come (the columnar reader), a key's lines may arrive out of order: keep the first.
    grouped = False
    with localcontext(EXACT):
        for row in rows:
            if isinstance(row, TotalCheck):
                checks.append(row)
                continue
            if isinstance(row, CreditBlock):
                _take_block(row, blocks, known)
                credit_rows += len(row.columns)
                for name, count in row.currencies:
                    currency(name, count)
                continue
            if isinstance(row, CreditGroup):
                if duplicate_policy != "sum":
                    raise ValueError("summed credit groups come only from formats that sum duplicates")
                grouped = True
                summed = row.credit
                credit_rows += row.rows
                if summed.currency:
                    currency(summed.currency, row.rows, row.lines[0])
                group: _Key = (summed.month, summed.account_id, summed.service, summed.description)
                if group not in sums:
                    sums[group], first_line[group], row_counts[group] = summed.cost, row.lines[0], row.rows
                    lines[group] = list(row.lines[:line_cap])
                else:
                    sums[group] += summed.cost
                    row_counts[group] += row.rows
                    first_line[group] = min(first_line[group], row.lines[0])
                    lines[group] = sorted({*lines[group], *row.lines})[:line_cap]
                continue
            if isinstance(row, IgnoredRow):
                ignored.add(row.row_type or "(blank)")
                continue
            if isinstance(row, IgnoredRows):
                ignored.add(row.row_type or "(blank)", row.count)
                continue
            if isinstance(row, SkippedRow):
                skip(row)
                continue
            credit_rows += 1
            if row.currency:
                currency(row.currency, line=row.line)
            if row.cost == 0:
                skip(SkippedRow(row.line, row.account_id, "zero amount", "zero"))
                continue
            if known is not None and row.account_id not in known:
                skip(SkippedRow(row.line, row.account_id, "unknown account", "unknown_account"))
                continue
            if row.padded:
                padded_total += 1
                if len(padded_ids) < config.skipped_detail_limit:
                    padded_ids.append((row.line, row.account_id))
            key: _Key = (row.month, row.account_id, row.service, row.description)
            if key not in sums:
                sums[key], first_line[key], lines[key], row_counts[key] = row.cost, row.line, [row.line], 1
                continue
            if duplicate_policy == "sum":
                sums[key] += row.cost
                row_counts[key] += 1
                if grouped:
                    first_line[key] = min(first_line[key], row.line)
                    lines[key] = sorted({*lines[key], row.line})[:line_cap]
                elif len(lines[key]) < line_cap:
                    lines[key].append(row.line)
            elif sums[key] == row.cost:
                skip(SkippedRow(row.line, row.account_id, f"duplicate of {unit} {first_line[key]}", "duplicate"))
            else:
                raise rejected(
                    f"account {row.account_id} has different amounts for {row.month}: {unit} {first_line[key]} "
                    f"gives {format_money(sums[key])}, {unit} {row.line} gives {format_money(row.cost)}",
                    line=row.line,
                )

    _check_currencies(currencies.counter, currency_lines, config, unit)
    considered = credit_rows + invalid
    if considered == 0 and not config.part_of_export:
        raise rejected(f"no credit rows found{_ignored_summary(ignored.counter)}")
    if invalid and Decimal(invalid) / Decimal(considered) > config.max_invalid_share:
        raise rejected(
            f"{invalid} of {considered} credit rows are invalid, more than the "
            f"{config.max_invalid_share:%} allowed: the file looks structurally wrong"
        )
    notes: list[str] = []
    if checks:
        disagreeing = [check for check in checks if not check.agrees]
        if disagreeing:
            raise _totals_disagree(disagreeing, invalid, unit, rejected)
        notes.append(_totals_agree(checks))

    by_month: dict[str, list[AccountCredit]] = {}
    for key, cost in sums.items():
        month, account_id, service, description = key
        if cost == 0:
            skip(SkippedRow(first_line[key], account_id, f"credits for {month} net to zero", "net_zero"))
            continue
        credit = AccountCredit(account_id, month, cost, description, service, tuple(lines[key]), row_counts[key])
        by_month.setdefault(month, []).append(credit)
    months = {
        month: _month_credits(month, by_month.get(month, []), blocks.get(month)) for month in {*by_month, *blocks}
    }
    if not months and not config.part_of_export:
        raise rejected("no valid credit row: every row was skipped")
    if len(months) > MAX_RANGE_MONTHS:
        # Each month is a batch, a message and a replace_drop of that month in CloudZero: so many is a broken file.
        first, last = min(months), max(months)
        raise rejected(
            f"the file holds credits for {len(months)} months ({first}..{last}), more than {MAX_RANGE_MONTHS}: "
            "a back-fill spans a few years at most; upload it in parts"
        )

    return CreditFile(
        format_id=format_id,
        months=dict(sorted(months.items())),
        skipped=skipped,
        skipped_total=skipped_total,
        skipped_by_reason=dict(skipped_by_reason),
        credit_rows=credit_rows,
        ignored_rows=sum(ignored.counter.values()),
        ignored_by_type=dict(ignored.counter),
        currency=next(iter(currencies.counter), ""),
        format_title=info.title if info else "",
        layout=info.layout if info else "",
        amount_column=info.amount_column if info else "",
        columns=dict(info.columns) if info else {},
        sign_rule=info.sign_rule if info else "",
        month_source=info.month_source if info else "",
        line_unit=unit,
        header_line=info.header_line if info else 0,
        currencies=dict(currencies.counter),
        padded_ids=padded_ids,
        padded_total=padded_total,
        notes=notes,
    )


def _take_block(block: CreditBlock, blocks: dict[str, CreditColumns], known: frozenset[str] | None) -> None:
    columns = block.columns
    if columns.month in blocks:
        raise ValueError(f"a reader gave two blocks of credits for {columns.month}: it must give one")
    if known is not None and not known.issuperset(columns.accounts()):
        raise ValueError("a reader gave a block of credits with accounts outside the known-accounts list")
    blocks[columns.month] = columns


def _month_credits(month: str, credits: list[AccountCredit], columns: CreditColumns | None) -> MonthCredits:
    """The month's credits in order; a block's columns take the credits that fit them (the rows it left out)."""
    if columns is not None:
        fitting = [credit for credit in credits if columns.fits(credit)]
        if fitting:
            columns.add(fitting)
            credits = [credit for credit in credits if not columns.fits(credit)]
    credits.sort(key=lambda c: (c.account_id, c.service, c.description))
    return MonthCredits(month, credits, columns)


def _figures(check: TotalCheck, unit: str) -> str:
    stated, read = check.shown(check.stated), check.shown(check.read)
    with localcontext(EXACT):
        difference = (stated - read).copy_abs()
    hint = f": {check.hint}" if check.hint else ""
    return (
        f"{check.what} ({unit} {check.line}) states {format_money(stated)}, the credits read add up to "
        f"{format_money(read)} (a difference of {format_money(difference)}{hint})"
    )


def _totals_disagree(
    disagreeing: list[TotalCheck], invalid: int, unit: str, rejected: Callable[[str, int | None], FileRejected]
) -> FileRejected:
    """The rejection for totals the credits do not add up to, naming both figures of each."""
    first = disagreeing[0]
    reason = f"the credits read do not add up to the file's total, to the cent: {_figures(first, unit)}"
    if len(disagreeing) > 1:
        reason += f"; {len(disagreeing) - 1} more of its totals disagree"
    if invalid:
        rows = "1 row was" if invalid == 1 else f"{invalid} rows were"
        reason += f" ({rows} skipped as invalid and are not in the credits read)"
    error = rejected(reason, first.line)
    listed = [_figures(check, unit) for check in disagreeing[:PROBLEMS_LISTED]]
    if len(disagreeing) > PROBLEMS_LISTED:
        listed.append(f"… and {len(disagreeing) - PROBLEMS_LISTED} more totals that disagree")
    error.problems = listed + error.problems
    kind = "a stated total the credits read do not add up to"
    error.problem_counts = {kind: len(disagreeing), **error.problem_counts}
    error.problems_total += len(disagreeing)
    return error


def _totals_agree(checks: list[TotalCheck]) -> str:
    first = checks[0]
    stated = format_money(first.shown(first.stated))
    if len(checks) == 1:
        return f"the credits read add up to {first.what} ({stated}), to the cent"
    return (
        f"the credits read add up to all {len(checks)} totals the file states, to the cent "
        f"({first.what}: {stated}, ...)"
    )


def _short(text: str) -> str:
    return text if len(text) <= MAX_ROW_TEXT else safe_text(text, limit=MAX_ROW_TEXT)


def _ignored_summary(ignored: Counter[str]) -> str:
    if not ignored:
        return ""
    shown = ", ".join(f"{row_type} {count}" for row_type, count in ignored.most_common(8))
    return f" (rows of other types, ignored: {shown})"


def _check_currencies(currencies: Counter[str], first_lines: dict[str, int], config: ParseConfig, unit: str) -> None:
    """FileRejected naming each currency not configured and the line it first appears on."""
    unknown = sorted(set(currencies) - config.currencies)
    if unknown:
        named = [f"{name} (first at {unit} {first_lines[name]})" if name in first_lines else name for name in unknown]
        lines = [first_lines[name] for name in unknown if name in first_lines]
        raise FileRejected(
            f"currency {', '.join(named)} is not configured (accepted: {', '.join(sorted(config.currencies))})",
            line=min(lines) if lines else None,
        )
