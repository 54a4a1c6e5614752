"""`account,amount` with no header: the file the monthly process has always used.

The month comes from the object key (`credits-2026-01.csv`). Amounts are credit magnitudes:
`$100.00` and `-$100.00` both mean a credit of 100, sent as cost -100.
"""

import re
from collections.abc import Iterator
from typing import BinaryIO

from credits_pipeline.accounts import InvalidAccountId, normalise_account_id
from credits_pipeline.credit_line import CreditLine, RowOutcome, SkippedRow
from credits_pipeline.formats.base import DuplicatePolicy, FileRejected
from credits_pipeline.formats.text import csv_rows, text_stream
from credits_pipeline.money import InvalidAmount, parse_amount
from credits_pipeline.months import NoMonth, month_from_name

FORMAT_ID = "headerless/1"
_ACCOUNT_LIKE = re.compile(r"^\s*'?[\d\s\-.eE+]{1,20}\s*$")


def looks_headerless(first_row: list[str]) -> bool:
    """The first row is data (an account id-like value), not a header, with two columns."""
    cells = [cell for cell in first_row if cell.strip()]
    return len(cells) == 2 and bool(_ACCOUNT_LIKE.match(first_row[0]))


class HeaderlessFormat:
    format_id = FORMAT_ID
    duplicate_policy: DuplicatePolicy = "collapse"

    def __init__(self, data: BinaryIO, name: str, description: str, service: str) -> None:
        try:
            self._month = month_from_name(name)
        except NoMonth as error:
            raise FileRejected(str(error)) from None
        self._data = data
        self._description = description
        self._service = service

    def rows(self) -> Iterator[RowOutcome]:
        for line, fields in csv_rows(text_stream(self._data)):
            account_text = fields[0]
            extra = [cell for cell in fields[2:] if cell.strip()]
            if len(fields) < 2 or extra:
                yield SkippedRow(line, account_text.strip() or None, f"expected 2 columns, found {len(fields)}")
                continue
            try:
                account_id = normalise_account_id(account_text)
            except InvalidAccountId as error:
                yield SkippedRow(line, account_text.strip() or None, str(error))
                continue
            try:
                amount = parse_amount(fields[1])
            except InvalidAmount as error:
                yield SkippedRow(line, account_id, str(error))
                continue
            yield CreditLine(line, account_id, self._month, -abs(amount), self._description, self._service)
