"""The headerless monthly file's clean lines, read in bulk: one regular expression over the text.

Nearly every line of the monthly file has one shape: a 12-digit account id, a comma, and an amount
such as `1234.56`, `$1234.56`, `-$100.00` or `"$6,407.96"`. `scan` reads those lines a block at a
time with one `findall` (C speed, no Python per line) into text `account + magnitude`, and hands
every other line back, with its line number and its cells as csv reads them, for the reader's
per-row rules (totals rows, padded ids, zero amounts, currencies, ...). It answers None when a line
cannot be read alone as the csv module reads it within the file (a quote left open runs the cell
on into the next lines; a lone CR ends a line for csv but not here): the reader then reads row by row.
"""

import csv
import re
from array import array
from dataclasses import dataclass, field
from itertools import repeat
from operator import add, itemgetter

# Magnitudes read exactly as AmountReader reads them with a decimal point: no leading zeros (so the text
# is what format_money writes), never zero (a zero amount is skipped by the per-row rules), at most 18
# integer digits and 20 decimals (far inside MAX_AMOUNT and MIN_EXPONENT). Thousands separators only
# inside quotes (unquoted, the comma is the delimiter), grouped in threes as `_valid_grouping` requires.
_PLAIN = r"(?:[1-9][0-9]{0,17}|0(?=\.[0-9]*[1-9]))(?:\.[0-9]{1,20})?"
_GROUPED = r"[1-9][0-9]{0,2}(?:,[0-9]{3}){1,5}(?:\.[0-9]{1,20})?"
# Groups: account, the opening quote (if any), `$` (if any), the amount as written.
CLEAN_LINE = re.compile(
    rf'^([0-9]{{12}}),(")?-?(\$?)((?(2){_GROUPED}|{_PLAIN})|{_PLAIN})(?(2)")\r?$', re.MULTILINE | re.ASCII
)
_ACCOUNT, _QUOTE, _DOLLAR, _AMOUNT = (itemgetter(index) for index in range(4))

BLOCK_CHARS = 1 << 20  # lines are read a block at a time: the matches of one block are alive at once
MAX_OTHER_LINES = 50_000  # more lines than this outside the clean shape: the file is read row by row


@dataclass
class Scan:
    """The clean lines in file order (`texts[i]`: account then magnitude, from line `lines[i]`, `dollars[i]`
    1 when its amount was written with `$`) and the other rows as csv reads them: (line, cells)."""

    texts: list[str] = field(default_factory=list)
    lines: array = field(default_factory=lambda: array("l"))  # type: ignore[type-arg]
    dollars: array = field(default_factory=lambda: array("b"))  # type: ignore[type-arg]
    others: list[tuple[int, list[str]]] = field(default_factory=list)


def scan(text: str, max_columns: int) -> Scan | None:
    """The text's clean lines and its other rows; None when it must be read row by row."""
    if text.count("\r") != text.count("\r\n"):
        return None  # a lone CR ends a line for the csv module
    if text.endswith("\n"):
        text = text[:-1]  # the last line's end: no line follows it
    result = Scan()
    start, line = 0, 1
    while start <= len(text):
        end = text.find("\n", start + BLOCK_CHARS)
        end = len(text) if end < 0 else end
        block = text[start:end]
        lines = block.count("\n") + 1
        matches = CLEAN_LINE.findall(block)
        if len(matches) == lines:
            _take(result, matches, range(line, line + lines))
        elif not _take_mixed(result, block, line, max_columns):
            return None
        start, line = end + 1, line + lines
    return result


def _take(result: Scan, matches: list[tuple[str, str, str, str]], lines: range) -> None:
    magnitudes = map(str.replace, map(_AMOUNT, matches), repeat(","), repeat(""))
    result.texts.extend(map(add, map(_ACCOUNT, matches), magnitudes))
    result.lines.extend(lines)
    result.dollars.extend(map(len, map(_DOLLAR, matches)))


def _take_mixed(result: Scan, block: str, first_line: int, max_columns: int) -> bool:
    """A block with lines outside the clean shape: each line on its own. False: read the file row by row."""
    for number, line in enumerate(block.split("\n"), start=first_line):
        match = CLEAN_LINE.fullmatch(line)
        if match is not None:
            _take(result, [match.groups("")], range(number, number + 1))  # type: ignore[list-item]
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
