"""The registry of formats, and detection: which format a file's content matches.

Detection looks at content only, never at the file name: magic bytes pick the container
(gzip, zip, Parquet, JSON, text); for text, the delimiter (`,`, `;` or tab) and whether the first
row is data (the headerless file) or a header; a header is scored against every registered format.
The best full match wins (configured mappings first, then the most specific format); with none,
the file is rejected naming the closest format and the columns it lacks. A zip of several files is
read as one only when they are the parts of one export (see `_one_file`).

Adding a variant: write a `TabularSpec` (or a `FormatEntry`) and list it in `BUILTIN`.
"""

import re

from credits_pipeline.domain.months import key_months
from credits_pipeline.domain.text import safe_text
from credits_pipeline.formats import allocation, billing_csv, cost_explorer_api, cost_explorer_csv, cur, focus, sheets
from credits_pipeline.formats.base import CreditFormat, FileRejected, ParseConfig
from credits_pipeline.formats.containers import Content
from credits_pipeline.formats.headerless import HeaderlessFormat, headerless_amounts, headerless_wide
from credits_pipeline.formats.mapping import InvalidColumnMapping, load_mappings
from credits_pipeline.formats.sources import CsvSource, Header, JsonSource, ParquetSource, RowSource
from credits_pipeline.formats.tabular import FormatEntry, Match, TabularFormat, TabularSpec
from credits_pipeline.formats.text import delimiter_candidates, sample_rows
from credits_pipeline.formats.values import header_key

BUILTIN: tuple[FormatEntry, ...] = (
    *cur.SPECS,
    *focus.SPECS,
    *allocation.SPECS,
    *billing_csv.SPECS,
    *cost_explorer_csv.SPECS,
    *cost_explorer_api.SPECS,
    *sheets.SPECS,
)
HEADERLESS_IDS = ("headerless/1", "headerless-wide/1")
BUILTIN_IDS = frozenset({entry.format_id for entry in BUILTIN} | set(HEADERLESS_IDS))
TITLE_ROWS = 10  # a hand-made sheet's header may follow this many title rows

# Columns of a credit balance list (reference §7): what is left of a credit, never what a month applied.
_BALANCE_KEYS = frozenset(
    {
        "amountremaining",
        "remainingamount",
        "remaining",
        "remainingbalance",
        "balanceremaining",
        "creditremaining",
        "creditsremaining",
        "remainingcredit",
        "remainingcredits",
    }
)
# Columns that are a balance list's when the file names no month (a sheet of credits applied without a month
# column reads its amount column as the month's in the file name; beside these, that is a credit's face value
# or what is left): what is left as a running balance, how much of a credit was used, when it expires. Beside
# a month column they are details of the credits applied in each month (a running balance, the expiry).
_BALANCE_WITHOUT_MONTH_KEYS = frozenset(
    {"balance", "creditbalance", "amountused", "usedamount", "creditused", "creditsused"}
)
_EXPIRY = re.compile(r"(?:credit)?(?:expiration|expiry|expires|expire|expiring)(?:date|datetime|time|on|at)?")
# A trailing unit such as `(USD)`, `($)` or `[EUR]`: `Amount Remaining (USD)` is still `Amount remaining`.
_UNIT_SUFFIX = re.compile(r"\s*(?:\([^()]*\)|\[[^\[\]]*\])\s*$")


def registered_formats(config: ParseConfig) -> list[FormatEntry]:
    """Configured mappings first (they win when they match), then the built-in formats."""
    return [*load_mappings(config.column_mappings, BUILTIN_IDS), *BUILTIN]


def detect(content: Content, name: str, config: ParseConfig) -> CreditFormat:
    """The reader for the format the content matches; FileRejected says why none does."""
    entries = registered_formats(config)
    if content.kind == "parquet":
        parquet = ParquetSource(content)
        return _open_best(entries, content, parquet, name, config)
    if content.kind == "json":
        records = JsonSource(content)
        return _open_best(entries, content, records, name, config)
    return _detect_text(content, name, config, entries)


def _detect_text(content: Content, name: str, config: ParseConfig, entries: list[FormatEntry]) -> CreditFormat:
    head = content.parts[0].head
    tried: list[tuple[Header, list[Match]]] = []
    for delimiter in delimiter_candidates(head):
        rows = sample_rows(head, delimiter)
        if not rows:
            raise FileRejected("the file is empty")
        amounts = headerless_amounts([cells for _, cells in rows], name)
        if amounts is not None:
            _one_file(content, None, name)
            _same_month_as_the_zip(content, name)  # a file of accounts and amounts takes its month from the name
            source = CsvSource(content, delimiter, Header((), 0))
            if amounts == 1:
                return HeaderlessFormat(source, name, config)
            return headerless_wide(source, name, config, amounts)
        doubtful: Match | None = None  # a title row read as a wide sheet's header of unreadable months
        for index, (line, cells) in enumerate(rows[: TITLE_ROWS + 1]):
            if index and not _title_rows_only(rows[:index]):
                break
            header = Header(tuple(cells), line)
            _refuse_balance_list(header, entries)
            candidates = [entry for entry in entries if index == 0 or entry.header_search]
            matches = [entry.match(header) for entry in candidates]
            best = _best(matches)
            if best is not None and doubtful is None and _title_of_a_month(best, line, cells):
                doubtful = best  # `,AWS credits - January 2026` above the header: look further down first
            elif best is not None:
                return _open(best, content, CsvSource(content, delimiter, header), name, config)
            if index == 0:
                tried.append((header, matches))
        if doubtful is not None:  # no header below it: rejected, naming the month it cannot read
            return _open(doubtful, content, CsvSource(content, delimiter, doubtful.header), name, config)
    header, matches = max(tried, key=lambda item: len(item[0].names))
    raise _no_format(header, matches)


def _title_of_a_month(match: Match, line: int, cells: list[str]) -> bool:
    """A row a wide sheet takes for its header though no cell of it reads as a month, and that could be a
    title (at most two cells): a sheet's title that names its month."""
    unreadable_only = "unreadable months" in match.indexes and not match.indexes.get("months")
    return unreadable_only and _title_rows_only([(line, cells)])


def _title_rows_only(rows: list[tuple[int, list[str]]]) -> bool:
    """Rows above a header are titles: at most two non-empty cells each."""
    return all(sum(1 for cell in cells if cell.strip()) <= 2 for _, cells in rows)


def _open_best(
    entries: list[FormatEntry], content: Content, source: RowSource, name: str, config: ParseConfig
) -> CreditFormat:
    header = source.header
    _refuse_balance_list(header, entries)
    matches = [entry.match(header) for entry in entries]
    best = _best(matches)
    if best is None:
        raise _no_format(header, matches)
    return _open(best, content, source, name, config)


def _open(match: Match, content: Content, source: RowSource, name: str, config: ParseConfig) -> CreditFormat:
    """The reader of the chosen format, once the zip it came in (if any) is one file whose month is clear."""
    _one_file(content, match.entry, name)
    reader = match.entry.open(match, source, name, config)
    if isinstance(reader, TabularFormat) and reader.fixed_month:  # no month column: the month is the name's
        _same_month_as_the_zip(content, name)
    return reader


def _one_file(content: Content, entry: FormatEntry | None, name: str) -> None:
    """Several files in a zip are read as one only when they are the parts of one whole AWS writes in
    parts (an export: CUR, CUR 2.0, FOCUS; a Cost Explorer API response's saved pages, each checked against the
    others), whose rows carry their month.
    Other files are each a file of their own: read as one, a headerless file's month would come from the
    zip's name, not its own."""
    if len(content.parts) == 1:
        return
    if entry is not None and entry.export_parts:
        return
    names = [safe_text(part.name, limit=120) for part in content.parts]
    more = f" and {len(names) - 5} more" if len(names) > 5 else ""
    raise FileRejected(
        f"the zip holds {len(names)} separate files ({', '.join(names[:5])}{more}): a zip is read as one file "
        "only when it holds the parts of one CUR, CUR 2.0 or FOCUS export (each part with the same header) "
        "or the saved pages of one Cost Explorer API response; "
        "upload each file on its own"
    )


def _same_month_as_the_zip(content: Content, name: str) -> None:
    """For a format that takes its month from the file name (headerless; a sheet with no month column): the one
    file of a zip that names another month than the zip's name does is refused, since which of the two is the
    credits' month cannot be told (domain.months.key_months reads both). A file whose rows carry their month
    (a CUR, a sheet with a month column) is read whatever the zip is called."""
    part = content.parts[0]
    if len(content.parts) != 1 or "zip" not in part.layers:
        return
    named, inside = key_months(name), key_months(part.name)
    if named and inside and named != inside:
        raise FileRejected(
            f"the zip's name ({safe_text(name, limit=200)}) names {', '.join(named)}, the file inside it "
            f"({safe_text(part.name, limit=120)}) names {', '.join(inside)}: which month its credits are for is "
            "unclear; upload the file itself, or a zip named for the same month as the file inside"
        )


def _best(matches: list[Match]) -> Match | None:
    full = [match for match in matches if match.full]
    return max(full, key=lambda match: match.score) if full else None


def _month_keys(entries: list[FormatEntry]) -> frozenset[str]:
    """The header keys some registered format reads a month from: a sheet's (Month, Billing Period, ...), a
    configured mapping's month column, an export's billing period."""
    return frozenset(
        key
        for entry in entries
        if isinstance(entry, TabularSpec)
        for column in entry.columns
        if column.role == "month"
        for key in column.keys
    )


def _refuse_balance_list(header: Header, entries: list[FormatEntry]) -> None:
    keys = [header_key(_UNIT_SUFFIX.sub("", name)) for name in header.names]
    columns = list(zip(header.names, keys, strict=True))
    # A column of what is left names the file best, month column or not.
    found = next((name for name, key in columns if key in _BALANCE_KEYS), None)
    if found is None and not _month_keys(entries).intersection(keys):
        # Else, in a file with no month column: a running balance, what was used, when a credit expires.
        found = next(
            (name for name, key in columns if key in _BALANCE_WITHOUT_MONTH_KEYS or _EXPIRY.fullmatch(key)), None
        )
    if found is not None:
        raise FileRejected(
            f"this is a credit balance list (column {found!r}): it says what credit is left, not what was "
            "applied in a month; upload the credits applied (CUR, FOCUS, credit allocation history)",
            line=header.line or None,
        )


def _no_format(header: Header, matches: list[Match]) -> FileRejected:
    shown = [name for name in header.names[:8]]
    more = f" and {len(header.names) - 8} more" if len(header.names) > 8 else ""
    columns = f"columns {shown}{more}"
    near = [match for match in matches if match.present]
    if not near:
        return FileRejected(
            f"unknown file shape: no known format has any of its {columns}",
            problems=[f"known formats: {', '.join(sorted(BUILTIN_IDS))}"],
        )
    closest = max(near, key=lambda match: (match.closeness, match.score))
    others = sorted(
        (match for match in near if match is not closest), key=lambda m: (m.closeness, m.score), reverse=True
    )[:3]
    problems = [f"closest: {closest.entry.format_id} ({closest.entry.title}), missing: {'; '.join(closest.missing)}"]
    problems += [f"also near: {m.entry.format_id}, missing: {'; '.join(m.missing)}" for m in others]
    return FileRejected(
        f"unknown file shape: the closest known format is {closest.entry.format_id} ({closest.entry.title}), "
        f"and the file lacks its column(s): {'; '.join(closest.missing)}",
        line=header.line or None,
        problems=problems,
    )


def format_ids(config: ParseConfig | None = None) -> list[str]:
    """Every format id a file can be read as (configured mappings included)."""
    entries = registered_formats(config) if config else list(BUILTIN)
    return [*HEADERLESS_IDS, *(entry.format_id for entry in entries)]


def validate_column_mappings(raw: object) -> tuple[dict[str, object], ...]:
    """For the splitter, once at load: a JSON list (or one object) -> `ParseConfig.column_mappings`.

    Raises InvalidColumnMapping with a message naming the mapping and the field at fault.
    """
    items = [raw] if isinstance(raw, dict) else raw
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise InvalidColumnMapping("column mappings must be a JSON list of objects")
    mappings: tuple[dict[str, object], ...] = tuple(items)
    load_mappings(mappings, BUILTIN_IDS)
    return mappings


__all__ = [
    "BUILTIN",
    "BUILTIN_IDS",
    "detect",
    "format_ids",
    "header_key",
    "registered_formats",
    "validate_column_mappings",
]
