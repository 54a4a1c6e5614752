"""The headerless monthly file's clean lines, read in bulk: one regular expression over the text.

Nearly every line of the monthly file has one shape: a 12-digit account id, a comma, and an amount
such as `1234.56`, `$1234.56`, `-$100.00` or `"$6,407.96"`. `scan` turns a block of those lines at
a time into CreditColumns' texts (`account:magnitude`) with one substitution (C speed, no Python per
line), and hands every other line back, with its line number and its cells as csv reads them, for
the reader's per-row rules (totals rows, padded ids, zero amounts, currencies, ...). It answers None when a line
cannot be read alone as the csv module reads it within the file (a quote left open runs the cell
on into the next lines; a lone CR ends a line for csv but not here): the reader then reads row by row.
"""

import csv
import re
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field

from credits_pipeline.domain.credits import SEPARATOR

# Magnitudes read exactly as AmountReader reads them with a decimal point: no leading zeros (so the text
# is what format_money writes), never zero (a zero amount is skipped by the per-row rules), at most 18
# integer digits and 20 decimals (far inside MAX_AMOUNT and MIN_EXPONENT). Thousands separators only
# inside quotes (unquoted, the comma is the delimiter), grouped in threes as `_valid_grouping` requires.
_PLAIN = r"(?:[1-9][0-9]{0,17}|0(?=\.[0-9]*[1-9]))(?:\.[0-9]{1,20})?"
_GROUPED = r"[1-9][0-9]{0,2}(?:,[0-9]{3}){1,5}(?:\.[0-9]{1,20})?"
# Groups: account, then the amount as written, unquoted or quoted (two alternatives: faster than a conditional).
CLEAN_LINE = re.compile(
    rf'^([0-9]{{12}}),(?:-?\$?({_PLAIN})|"-?\$?({_GROUPED}|{_PLAIN})")\r?$', re.MULTILINE | re.ASCII
)
# A clean line as CreditColumns holds it: `073933415963,"$6,407.96"` -> `073933415963:6,407.96` (then no commas).
AS_TEXT = rf"\1{SEPARATOR}\2\3"

BLOCK_CHARS = 1 << 20  # lines are read a block at a time: one block's copies are alive at once
MAX_OTHER_LINES = 50_000  # more lines than this outside the clean shape: the file is read row by row


@dataclass
class Scan:
    """The clean lines in file order (`texts[i]`, as CreditColumns holds them, from line `lines[i]`), how many
    wrote their amount with `$` and the first such line, and the other rows as csv reads them: (line, cells)."""

    text: str
    texts: list[str] = field(default_factory=list)
    lines: array = field(default_factory=lambda: array("l"))  # type: ignore[type-arg]
    dollars: int = 0
    first_dollar: int = 0
    others: list[tuple[int, list[str]]] = field(default_factory=list)

    def dollar_lines(self) -> Iterator[int]:
        """The lines with a `$`, in order, found as they are asked for (the reader asks for a few)."""
        text, line, counted = self.text, 1, 0
        position = text.find("$")
        while position >= 0:
            line += text.count("\n", counted, position)
            yield line
            end = text.find("\n", position)
            if end < 0:
                return
            line, counted = line + 1, end + 1
            position = text.find("$", counted)


def scan(text: str, max_columns: int) -> Scan | None:
    """The text's clean lines and its other rows; None when it must be read row by row."""
    if text.count("\r") != text.count("\r\n"):
        return None  # a lone CR ends a line for the csv module
    # The last line's end: no line follows it (read up to it, not a copy of the text without it).
    stop = len(text) - 1 if text.endswith("\n") else len(text)
    result = Scan(text)
    start, line = 0, 1
    while start <= stop:
        end = text.find("\n", start + BLOCK_CHARS, stop)
        end = stop if end < 0 else end
        block = text[start:end]
        lines = block.count("\n") + 1
        texts, clean = CLEAN_LINE.subn(AS_TEXT, block)
        if clean == lines:  # every line clean: the whole block at once
            result.texts.extend(texts.replace(",", "").split("\n"))
            result.lines.extend(range(line, line + lines))
            _count_dollars(result, block, line)
        elif not _take_mixed(result, block, line, max_columns):
            return None
        start, line = end + 1, line + lines
    return result


def _count_dollars(result: Scan, clean: str, first_line: int) -> None:
    """Count the `$` of clean lines (one at most on each), from `first_line` on."""
    dollars = clean.count("$")
    if dollars and not result.dollars:
        result.first_dollar = first_line + clean.count("\n", 0, clean.index("$"))
    result.dollars += dollars


def _take_mixed(result: Scan, block: str, first_line: int, max_columns: int) -> bool:
    """A block with lines outside the clean shape: each line on its own. False: read the file row by row."""
    for number, line in enumerate(block.split("\n"), start=first_line):
        match = CLEAN_LINE.fullmatch(line)
        if match is not None:
            result.texts.append(match.expand(AS_TEXT).replace(",", ""))
            result.lines.append(number)
            _count_dollars(result, line, number)
            continue
        cells = _cells(line.removesuffix("\r"))
        if cells is None or len(cells) > max_columns or len(result.others) >= MAX_OTHER_LINES:
            return False  # the row-by-row reader says what is wrong, with its line, or streams the file
        if any(cell.strip() for cell in cells):  # a blank row is no row, as csv_rows skips it
            result.others.append((number, cells))
    return True


def _cells(line: str) -> list[str] | None:
    """A line's cells as the csv module reads them, when the line is a whole row (no quoted cell runs on)."""
    reader = csv.reader([line + "\n", "\n"])
    try:
        cells = next(reader)
    except csv.Error:  # a NUL, a cell past the csv field limit: the row-by-row reader rejects it
        return None
    return cells if reader.line_num == 1 else None  # a quote left open takes the next lines into the cell
