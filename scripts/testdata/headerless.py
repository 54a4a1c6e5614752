"""The headerless files ops write: monthly `account,amount` (month from the file name) and back-fill
`account,m1,m2,...` (months from a range in the name, or from a header row naming them)."""

import csv
import random
from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path

from testdata.encode import csv_text
from testdata.expected import Expected, MonthExpected


def numbered_accounts(count: int, start: int = 1) -> list[str]:
    """`count` 12-digit account ids from `start` on: 000000000001, 000000000002, ..."""
    return [f"{number:012d}" for number in range(start, start + count)]


def monthly_csv(rows: Iterable[tuple[str, str]], newline: str = "\n") -> bytes:
    """`account,amount` lines, amounts as written (`$1,234.56` is quoted, as a spreadsheet exports it)."""
    return csv_text(rows, newline=newline).encode()


def same_amount_csv(count: int, start: int = 1, amount: str = "$1.00") -> bytes:
    """`count` numbered accounts with one amount each: the smallest valid monthly file of that many rows."""
    return monthly_csv((account, amount) for account in numbered_accounts(count, start))


def backfill_csv(rows: Iterable[Sequence[str]], months: Sequence[str] = ()) -> str:
    """`account,m1,m2,...` rows (a blank cell is no credit); with `months`, a header row `,m1,m2,...` first."""
    header = [["", *months]] if months else []
    return csv_text([*header, *rows])


def dollars(cents: int, *, negative: bool = False) -> str:
    """An amount as people write it: `$6,407.96`, `-$100.00`."""
    return f"{'-' if negative else ''}${cents // 100:,}.{cents % 100:02d}"


def write_monthly_file(path: Path, accounts: int, seed: int, month: str = "2026-01") -> Expected:
    """The monthly file at scale: `accounts` distinct random ids, log-uniform amounts from $1 to $1,000,000.

    Every 50th amount is written negative (`-$100.00`): a headerless amount is a credit whatever its sign.
    The month comes from the file name, so name the file (or its S3 key) `...credits-<month>.csv`.
    """
    rng = random.Random(seed)
    ids = rng.sample(range(1, 10**12), accounts)
    total_cents = 0
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        for number, account in enumerate(ids):
            cents = int(10 ** rng.uniform(2, 8))
            total_cents += cents
            writer.writerow((f"{account:012d}", dollars(cents, negative=number % 50 == 7)))
    total = -Decimal(total_cents).scaleb(-2)
    return Expected("headerless/1", accounts, 0, {month: MonthExpected(accounts, total)})
