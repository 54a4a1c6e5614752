"""Which rows the report lists as padded: every reader asks the one rule (`AccountReader`) about the row's own cell.

A row is listed when its own cell wrote the id short, whatever other rows write for the same account: a row
written in full is not suspect because another row dropped a digit, and a short cell is suspect however it
is wrapped.
"""

import pytest

from tests.unit.formats.helpers import read_bytes

SHORT_THEN_FULL = [
    # (what the file is, its bytes, its name, the lines listed as padded)
    ("headerless", b"42,-1\n000000000042,-1\n111122223333,-5\n", "incoming/credits-2026-01.csv", [1]),
    ("headerless, full first", b"000000000042,-1\n42,-1\n111122223333,-5\n", "incoming/credits-2026-01.csv", [2]),
    (
        "long sheet",
        b"Account ID,Month,Credit\n42,2026-01,-1\n000000000042,2026-02,-2\n",
        "incoming/credits.csv",
        [2],
    ),
    (
        "long sheet, Excel's text wrapper",
        b'Account ID,Month,Credit\n="42",2026-01,-1\n111122223333,2026-01,-2\n',
        "incoming/credits.csv",
        [2],
    ),
    (
        "wide sheet",
        b"Account,Credit Name,Jan 2026,Feb 2026\n42,Activate,-1,-1\n000000000042,MAP,-2,-3\n",
        "incoming/credits.csv",
        [2, 2],  # one credit per month cell
    ),
    (
        "wide sheet, Excel's text wrapper",
        b'Account,Jan 2026\n="42",-1\n111122223333,-2\n',
        "incoming/credits.csv",
        [2],
    ),
]


@pytest.mark.parametrize(
    ("data", "name", "lines"), [case[1:] for case in SHORT_THEN_FULL], ids=[case[0] for case in SHORT_THEN_FULL]
)
def test_only_the_rows_that_wrote_the_id_short_are_listed_as_padded(data: bytes, name: str, lines: list[int]) -> None:
    credit_file = read_bytes(data, name)

    assert credit_file.padded_ids == [(line, "000000000042") for line in lines]
    assert credit_file.padded_total == len(lines)
