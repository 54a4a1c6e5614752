"""The fuzz corpus: hundreds of hostile uploads, generated from one seed (the same bytes on every run).

Categories: every fixture in tests/fixtures/formats/ as is and damaged; encodings; archives and bombs
(see archives.py); absurd values; empty and whitespace-only files; noise; hostile keys; re-uploads.
`python -m tests.fuzz.corpus DIR` writes them out, to try one with `make preview FILE=...`.
"""

import csv
import io
import random
import re
import string
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.fuzz import archives
from tests.fuzz.archives import Made, gzipped, zipped
from tests.fuzz.mutations import BLIND, DAMAGE, MORE_DAMAGE, inside, splice

SEED = 20260101
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "formats"
MONTHS = [f"{year}-{month:02d}" for year in (2024, 2025, 2026) for month in range(1, 13)]
SNIFFED = 64 * 1024  # what detection reads of a file: damage past it is met only while streaming
FIVE_MB = 5 * 1024**2


@dataclass(frozen=True)
class HostileInput:
    label: str  # the category and what the input is
    key: str  # unique, under incoming/
    data: bytes


def fixture_files() -> list[Path]:
    return sorted(path for path in FIXTURES.rglob("*") if path.is_file() and path.suffix not in (".md", ".py"))


def fixture_text(relative: str) -> str:
    return (FIXTURES / relative).read_text(encoding="utf-8")


def headerless(rng: random.Random, rows: int) -> bytes:
    """`account,"$amount"` rows with distinct accounts, as the monthly file writes them."""
    lines = []
    for account in rng.sample(range(10**11, 10**12), rows):
        cents = rng.randrange(1, 10**9)
        lines.append(f'{account:012d},"${cents // 100:,}.{cents % 100:02d}"\n')
    return "".join(lines).encode()


def fixtures(rng: random.Random) -> Iterator[Made]:
    """Every fixture as it is; damaged by each mutator of DAMAGE; by one other mutator or spliced with another
    fixture; and inside its container (a gzip's or zip's content damaged and packed again)."""
    files = fixture_files()
    for path in files:
        relative = path.relative_to(FIXTURES).as_posix()
        data = path.read_bytes()
        yield f"{relative} as is", path.name, data
        for mutate in DAMAGE:
            yield f"{relative} {mutate.__name__}", path.name, mutate(data, rng)
        other = rng.choice(files)
        extra = rng.randrange(len(MORE_DAMAGE) + 1)
        if extra < len(MORE_DAMAGE):
            yield f"{relative} {MORE_DAMAGE[extra].__name__}", path.name, MORE_DAMAGE[extra](data, rng)
        else:
            yield f"{relative} spliced with {other.name}", path.name, splice(data, rng, other.read_bytes())
        mutate = rng.choice(BLIND)
        packed = inside(data, rng, mutate)
        if packed is not None:
            yield f"{relative} {mutate.__name__} inside", path.name, packed


def _variants(text: str) -> Iterator[tuple[str, bytes]]:
    """One text in the encodings and byte orders real (and broken) exports use."""
    middle = len(text) // 2
    latin = text.replace("$", "\u00a3").replace("Credit", "Cr\u00e9dit")
    yield "UTF-16-LE without BOM", text.encode("utf-16-le")
    yield "UTF-16-BE without BOM", text.encode("utf-16-be")
    yield "UTF-16 cut mid-character", text.encode("utf-16")[:-1]
    yield "UTF-32", text.encode("utf-32")
    yield "Latin-1", latin.encode("latin-1", errors="replace")
    yield "EBCDIC", text.encode("cp500")
    yield "a NUL in the middle", (text[:middle] + "\x00" + text[middle:]).encode()
    yield "a BOM in the middle", (text[:middle] + "\ufeff" + text[middle:]).encode()
    yield "two BOMs", ("\ufeff\ufeff" + text).encode()
    yield "a UTF-16 BOM on UTF-8", b"\xff\xfe" + text.encode()
    yield "a UTF-8 BOM on UTF-16", b"\xef\xbb\xbf" + text.encode("utf-16-le")
    yield (
        "half the lines Latin-1",
        b"".join(
            line.encode("latin-1", errors="replace") if n % 2 else line.encode()
            for n, line in enumerate(latin.splitlines(keepends=True))
        ),
    )
    yield "CR line ends", text.replace("\r\n", "\n").replace("\n", "\r").encode()
    yield "U+2028 line ends", text.replace("\n", "\u2028").encode()
    yield "every other byte NUL", text.encode("utf-16-le")[1:]


def encodings(rng: random.Random) -> Iterator[Made]:
    month = rng.choice(MONTHS)
    texts = (
        ("headerless", headerless(rng, 30).decode(), f"credits-{month}.csv"),
        ("sheet", fixture_text("sheets/long.csv"), "long.csv"),
        ("allocation JSON", fixture_text("allocation/credit-allocation.json"), "credit-allocation.json"),
    )
    for what, text, name in texts:
        for variant, data in _variants(text):
            yield f"{what} as {variant}", name, data
    big = headerless(rng, SNIFFED // 20)  # past the head that detection checks
    yield "a Latin-1 byte after the sniffed head", "credits-2026-01.csv", big + b'073933415963,"\xa31.00"\n'
    yield "a cp1252 euro after the sniffed head", "credits-2026-01.csv", big + b"073933415963,\x801.00\n"
    yield "a NUL after the sniffed head", "credits-2026-01.csv", big + b"073933415963,$1.00\x00\n"
    yield "a BOM after the sniffed head", "credits-2026-01.csv", big + b"\xef\xbb\xbf073933415963,$1.00\n"
    yield "a cut UTF-8 sequence at the end", "credits-2026-01.csv", big + b"073933415963,$1.00\xe2\x82"
    oddities = {
        "an overlong UTF-8 slash": b"\xc0\xaf",
        "an encoded surrogate": b"\xed\xa0\x80",
        "a 5-byte UTF-8 sequence": b"\xf8\x88\x80\x80\x80",
        "lone continuation bytes": b"\x80\x80\x80",
        "a code point past U+10FFFF": b"\xf4\x90\x80\x80",
    }
    for what, raw in oddities.items():
        yield f"headerless with {what}", "credits-2026-01.csv", b"073933415963,$1.00\n" + raw + b",$2.00\n"
    lookalikes = {
        "fullwidth digits in an id": "\uff10\uff17\uff13\uff19\uff13\uff13\uff14\uff11\uff15\uff19\uff16\uff13",
        "Arabic-Indic digits in an id": "\u0660\u0667\u0663\u0669\u0663\u0663\u0664\u0661\u0665\u0669\u0666\u0663",
        "zero-width spaces in an id": "0739\u200b3341\u200b5963",
        "a right-to-left override in an id": "\u202e073933415963",
        "an ANSI escape in an id": "\x1b[31m073933415963",
    }
    for what, account in lookalikes.items():
        yield f"headerless with {what}", "credits-2026-01.csv", f"{account},$5.00\n062951470133,$1.00\n".encode()
    yield "Arabic-Indic digits in an amount", "credits-2026-01.csv", "073933415963,\u0661\u0662\u0663\n".encode()
    yield "fullwidth digits in an amount", "credits-2026-01.csv", "073933415963,\uff11\uff12\uff13\n".encode()
    yield (
        "a description with escapes and newlines",
        "long.csv",
        (
            "Linked account,Invoice Month,Credit Name,Service,Amount (USD)\n"
            '073933415963,2024-09,"\x1b[2J\x07Activate\r\n\u2028injected",EC2,10\n'
        ).encode(),
    )


AMOUNTS = (
    "NaN",
    "nan",
    "sNaN",
    "Infinity",
    "-Infinity",
    "+inf",
    "1e309",
    "-1e309",
    "1e999999999999999999999",
    "1e-999999999999999999999",
    "9e99999999",
    "-0",
    "-0.00",
    "0E-1000",
    "9" * 40,
    "-" + "1" * 40 + ".5",
    "0." + "0" * 39 + "1",
    "1" * 5000,
    "1e+30",
    "-1e-40",
    "1e-41",
    "1_000",
    "0x1F",
    "1e",
    ".",
    "-",
    "--1",
    "(-(1))",
    "$$1",
    "1,2,3,4",
    "1.2.3",
    "\u20ac1",
    "USD EUR 1",
    "=1+1",
    "1" + "\u00a0" * 1000 + "2",
)
ACCOUNTS = (
    "7.39334E+10",
    "1.23457E+11",
    "1234567890123",
    "73933415963",
    "7",
    "1" * 40,
    "-073933415963",
    "0x1234",
    "07393 3415963",
    '="073933415963"',
    "'073933415963",
    "073933415963.0",
    "073933415963.5",
    "",
    "NULL",
)
MONTH_CELLS = (
    "9999-12-31T23:00:00-05:00",
    "0001-01-01T00:00:00+05:00",
    "2024-09-01T00:00:00+23:59",
    "2024-13-01",
    "2024-00",
    "2024-02-30",
    "99999-01",
    "Smarch 2024",
    "2024-09-01T25:61:61Z",
    "\u0662\u0660\u0662\u0664-\u0660\u0669",
    "31/12/9999",
    "12/2099",
    "Sep-99",
    "1e5",
    "2024-09-01T00:00:00." + "0" * 1000 + "Z",
)


def absurd_values(rng: random.Random) -> Iterator[Made]:
    good = headerless(rng, 30)
    for amount in AMOUNTS:
        row = f'073933415963,"{amount}"\n'.encode()
        yield f"headerless with the amount {amount[:30]!r}", "credits-2026-01.csv", good + row
    for account in ACCOUNTS:
        yield f"headerless with the id {account!r}", "credits-2026-01.csv", good + f"{account},$3.00\n".encode()
    yield "headerless of scientific ids only", "credits-2026-01.csv", b"7.39334E+10,$1.00\n6.29515E+10,$2.00\n"
    yield "headerless of 13-digit ids only", "credits-2026-01.csv", b"1234567890123,$1.00\n9876543210987,$2.00\n"
    yield (
        "headerless of invalid amounts only",
        "credits-2026-01.csv",
        "".join(f"0739334159{n:02d},{amount}\n" for n, amount in enumerate(AMOUNTS[:20])).encode(),
    )
    sheet = "Linked account,Invoice Month,Credit Name,Service,Amount (USD)\n"
    for month in MONTH_CELLS:
        rows = f"073933415963,{month},Activate,EC2,10\n062951470133,2024-09,Activate,EC2,5\n"
        yield f"sheet with the month {month[:30]!r}", "long.csv", (sheet + rows).encode()
    focus = fixture_text("focus/focus-1.0.csv")
    for month in MONTH_CELLS[:4]:
        yield f"FOCUS with the period {month!r}", "focus-1.0.csv", focus.replace("2025-02-01T00:00:00Z", month).encode()
    yield from _huge(rng, good)
    yield from _json(rng)
    yield from _report_size()


def _huge(rng: random.Random, good: bytes) -> Iterator[Made]:
    cell = "9" * 120_000  # just under the csv module's field limit
    yield "a 120 KB amount cell", "credits-2026-01.csv", good + f"073933415963,{cell}\n".encode()
    yield "a 120 KB id cell", "credits-2026-01.csv", good + f"{cell},$1.00\n".encode()
    yield "a 200 KB cell", "credits-2026-01.csv", good + b"073933415963," + b"9" * 200_000 + b"\n"
    yield (
        "25 rows of 120 KB amounts",
        "credits-2026-01.csv",
        "".join(f"0739334159{n:02d},${cell}\n" for n in range(25)).encode(),
    )
    many = headerless(rng, 5000)
    yield (
        "5,000 rows and 100 of 10 KB junk amounts",
        "credits-2026-01.csv",
        many + "".join(f"1739334159{n:02d},${'x' * 10_000}\n" for n in range(100)).encode(),
    )
    yield (
        "5,000 rows and 100 of 2 KB account ids",
        "credits-2026-01.csv",
        many + "".join(f"{n}{'7' * 2000},$1.00\n" for n in range(100)).encode(),
    )
    header = ",".join(f"column{n}" for n in range(10_000))
    yield "a header of 10,000 columns", "credits.csv", f"{header}\n{','.join(['1'] * 10_000)}\n".encode()
    yield "a row of 10,000 cells", "credits-2026-01.csv", b"073933415963," + b",".join([b"$1.00"] * 10_000) + b"\n"
    yield (
        "a 10,000-cell row past the sniffed head",
        "credits-2026-01.csv",
        headerless(rng, SNIFFED // 20) + b"073933415963," + b",".join([b"1"] * 10_000) + b"\n",
    )
    yield "one 5 MB line of one cell", "credits-2026-01.csv", b"073933415963,$" + b"1" * FIVE_MB
    yield "one 5 MB line of cells", "credits-2026-01.csv", b"073933415963," * (FIVE_MB // 13)
    yield "one 5 MB quoted field never closed", "credits-2026-01.csv", b'073933415963,"' + b"1,\n" * (FIVE_MB // 3)
    yield "one 5 MB line of letters", "credits-2026-01.csv", rng.choice(string.ascii_letters).encode() * FIVE_MB
    yield "2 MB of one valid row repeated", "credits-2026-01.csv", b"073933415963,$1.00\n" * (2 * 1024**2 // 19)


def _report_size() -> Iterator[Made]:
    """Files whose report would outgrow what the report store holds, unless what it quotes is bounded."""
    cur = list(csv.reader(io.StringIO(fixture_text("cur-legacy/cur-2024-09.csv"))))
    header, rows = cur[0], cur[1:]
    kind = header.index("lineItem/LineItemType")
    lines = [header]
    for n in range(60):
        row = list(rows[n % len(rows)])
        if row[kind] != "Credit":
            row[kind] = f"{n}{'T' * 20_000}"
        lines.append(row)
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(lines)
    yield "CUR rows of 20 KB line item types", "cur-2024-09.csv", buffer.getvalue().encode()
    sheet = "Linked account,Invoice Month,Credit Name,Service,Amount (USD)\n" + "".join(
        f"073933415963,{year}-{month:02d},Activate,EC2,1\n" for year in range(2000, 2100) for month in range(1, 13)
    )
    yield "a sheet of credits in 1,200 months", "long.csv", sheet.encode()
    yield "a sheet of credits in 60 months", "long.csv", "\n".join(sheet.splitlines()[: 60 + 1]).encode()
    yield (
        "a sheet of 20 KB descriptions",
        "long.csv",
        (
            "Linked account,Invoice Month,Credit Name,Service,Amount (USD)\n"
            + "".join(f"07393341{n:04d},2024-09,{'D' * 20_000},EC2,1\n" for n in range(100))
        ).encode(),
    )
    yield "JSON of 300 KB keys", "credits.json", ('[{"' + "k" * 300_000 + '": 1, "' + "j" * 300_000 + '": 2}]').encode()
    yield "Parquet of a 1 MB column name", "cur2-2025-01.parquet", archives.parquet({"c" * 1024**2: [1]})
    yield (
        "Parquet of 1 MB descriptions",
        "cur2-2025-01.parquet",
        archives.parquet(
            {
                "line_item_usage_account_id": ["073933415963"],
                "line_item_line_item_type": ["Credit"],
                "line_item_unblended_cost": [-1.5],
                "bill_billing_period_start_date": ["2025-01-01T00:00:00Z"],
                "line_item_line_item_description": ["d" * 1024**2],
            }
        ),
    )


def _json(rng: random.Random) -> Iterator[Made]:
    record = (
        '{"creditAmount": {"currencyAmount": "-1.5", "currencyCode": "USD"}, "accountId": "073933415963", '
        '"billingMonth": "2025-03", "description": "x"}'
    )
    depth = FIVE_MB
    yield "JSON of 5 MB of [", "credits.json", b"[" * depth
    yield "JSON nested 100,000 deep", "credits.json", b"[" * 100_000 + b"]" * 100_000
    yield "JSON objects nested 100,000 deep", "credits.json", b'[{"a":' * 100_000 + b"1" + b"}]" * 100_000
    yield "a record nested 100,000 deep", "credits.json", b"[" + b'{"a":' * 100_000 + b"1" + b"}" * 100_000 + b"]"
    yield "a record nested 2,000 deep", "credits.json", b"[" + b'{"a":' * 2000 + b"1" + b"}" * 2000 + b"]"
    yield "JSON of one 5 MB string", "credits.json", b'"' + b"a" * FIVE_MB + b'"'
    yield "JSON list of one 5 MB string", "credits.json", b'["' + b"a" * FIVE_MB + b'"]'
    yield "a record with a 5 MB amount", "credits.json", b'[{"creditAmount": "' + b"1" * FIVE_MB + b'"}]'
    yield "a record with a 5 MB key", "credits.json", b'[{"' + b"k" * FIVE_MB + b'": 1}]'
    yield (
        "a record of 10,000 keys",
        "credits.json",
        ("[{" + ",".join(f'"k{n}": {n}' for n in range(10_000)) + "}]").encode(),
    )
    for literal in ("NaN", "Infinity", "-Infinity", "1e999999999", "1" * 5000, "-0", "true", "null", "[]", "{}"):
        yield (
            f"a record whose amount is {literal[:20]}",
            "credit-allocation.json",
            record.replace('"-1.5"', literal).join(("[", "]")).encode(),
        )
    yield (
        "records with duplicate keys",
        "credits.json",
        b'[{"accountId": "073933415963", "accountId": "1", "creditAmount": "-1", "billingMonth": "2025-03"}]',
    )
    yield "JSON Lines of 10,000 empty objects", "credits.jsonl", b"{}\n" * 10_000
    yield "JSON Lines with a broken line", "credits.jsonl", (record + "\n{broken\n" + record + "\n").encode()
    yield "a page with an empty list", "credits.json", b'{"creditAllocationHistoryList": [], "nextToken": "x"}'
    yield "JSON with a top-level number", "credits.json", b"[1, 2, 3]"
    yield "JSON then junk", "credits.json", (f"[{record}]" + "junk" * 10).encode()
    yield "JSON with unbalanced brackets", "credits.json", f"[{record}]]]}}".encode()
    yield "JSON with a lone surrogate escape", "credits.json", record.replace('"x"', '"\\ud800"').join("[]").encode()
    yield "JSON of 5 MB of random brackets", "credits.json", bytes(rng.choice(b'[]{}",:') for _ in range(200_000))


def empties(rng: random.Random) -> Iterator[Made]:
    blanks = {
        "an empty file": b"",
        "one space": b" ",
        "one newline": b"\n",
        "a thousand CRLFs": b"\r\n" * 1000,
        "tabs": b"\t\t",
        "a UTF-8 BOM only": b"\xef\xbb\xbf",
        "a UTF-8 BOM and newlines": b"\xef\xbb\xbf\r\n\r\n",
        "a UTF-16 BOM only": b"\xff\xfe",
        "a UTF-16 BOM and spaces": "\ufeff   \r\n".encode("utf-16-le"),
        "vertical tab and form feed": b"\x0b\x0c",
        "no-break spaces": "\u00a0\u00a0\n".encode(),
        "zero-width spaces": "\u200b\u200b\n".encode(),
        "commas only": b",,,\n,,,\n",
        "empty quotes": b'""\n""\n',
        "one quote": b'"',
        "null": b"null",
        "an empty list": b"[]",
        "an empty object": b"{}",
        "a list of an empty object": b"[{}]",
        "nested empty lists": b"[[]]",
        "zero": b"0",
        "a dash": b"-",
        "5 MB of spaces": b" " * FIVE_MB,
        "5 MB of newlines": b"\n" * FIVE_MB,
        "a CUR header only": fixture_text("cur-legacy/cur-2024-09.csv").splitlines()[0].encode(),
    }
    for what, data in blanks.items():
        yield what, f"credits-{rng.choice(MONTHS)}.csv", data
    yield "a gzip of nothing", "credits-2026-01.csv.gz", gzipped(b"")
    yield "a zip of an empty member", "credits-2026-01.zip", zipped([("credits-2026-01.csv", b"")])
    yield "a zip of a whitespace member", "credits-2026-01.zip", zipped([("credits-2026-01.csv", b" \n\n")])


def noise(rng: random.Random) -> Iterator[Made]:
    suffixes = (".csv", ".csv.gz", ".zip", ".json", ".parquet", ".txt", "")
    for size in (1, 7, 100, 4096, 70_000, 1_000_000):
        for _ in range(2):
            yield f"{size:,} random bytes", f"credits-2026-01{rng.choice(suffixes)}", rng.randbytes(size)
    for size in (10, 1000, 70_000):
        for _ in range(3):
            text = "".join(rng.choice(string.printable) for _ in range(size))
            yield f"{size:,} random printable characters", f"credits-2026-01{rng.choice(suffixes)}", text.encode()
    cells = ("073933415963", "$1.00", '"', '""', ",", "-", "1e5", "NaN", "", "'0", "(1)", "\u20ac", "2024-09")
    for rows in (1, 5, 50, 500):
        for _ in range(4):
            text = "".join(
                ",".join(rng.choice(cells) for _ in range(rng.randint(1, 6))) + rng.choice(("\n", "\r\n", "\r"))
                for _ in range(rows)
            )
            yield f"{rows} rows of random cells", f"credits-2026-01{rng.choice(suffixes)}", text.encode()


def hostile_keys(rng: random.Random) -> Iterator[Made]:
    rows = headerless(rng, 10)
    wide = (FIXTURES / "headerless" / "credits-2025-01_2025-03.csv").read_bytes()
    names = (
        "credits-2026-13.csv",
        "credits-1999-12.csv",
        "credits-2100-01.csv",
        "credits.csv",
        "credits-2026-01-2026-02-2026-03.csv",
        "crédits 2026-01 +plus%41 &amp;.csv",
        "credits-2026-01 .csv",
        "a" * 900 + "-2026-01.csv",
        "credits-2026-01.CSV.GZ",
        "credits-2026-01",
        "credits-2026-01.parquet",
        "credits-2026-01.json",
        "credits-2026-01.zip",
        "..%2F..%2Fcredits-2026-01.csv",
    )
    for name in names:
        yield f"headerless under the name {name[:40]!r}", name, rows
    for name in (
        "credits-2025-01_2025-03.csv",
        "credits-2025-03_2025-01.csv",
        "credits-2000-01_2099-12.csv",
        "credits-2025-01_2025-01.csv",
        "credits-2025-01.csv",
    ):
        yield f"headerless back-fill under the name {name!r}", name, wide


def containers(rng: random.Random) -> Iterator[Made]:
    rows = headerless(rng, 20)
    yield from archives.bombs(rows)
    yield from archives.many_members(rows)
    yield from archives.nesting(rows)
    yield from archives.damaged_gzip(rows, rng)
    yield from archives.damaged_zip(rows, rng)
    yield from archives.zip_slip(rows)
    yield from archives.damaged_parquet(rng)


CATEGORIES: tuple[Callable[[random.Random], Iterator[Made]], ...] = (
    fixtures,
    encodings,
    containers,
    absurd_values,
    empties,
    noise,
    hostile_keys,
)
_NAMED_MONTH = re.compile(r"credits-2026-01(?=[._ ]|$)")


def hostile_inputs(seed: int = SEED) -> list[HostileInput]:
    """Every input, in a fixed order; made inputs vary the month their name gives (and so their identity)."""
    made: list[Made] = []
    for category in CATEGORIES:
        rng = random.Random(f"{seed}/{category.__name__}")
        vary = category is not fixtures and category is not hostile_keys
        for label, name, data in category(rng):
            named = _NAMED_MONTH.sub(f"credits-{rng.choice(MONTHS)}", name) if vary else name
            made.append((f"{category.__name__}: {label}", named, data))
    # The same bytes under a key naming the same month: the splitter must answer `duplicate`.
    rng = random.Random(f"{seed}/again")
    made += [(f"again: {label}", name, data) for label, name, data in rng.sample(made, 8)]
    return [HostileInput(label, f"incoming/fuzz-{n:04d}-{name}", data) for n, (label, name, data) in enumerate(made)]


def main(directory: str) -> None:
    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    for hostile in hostile_inputs():
        path = target / hostile.key.removeprefix("incoming/")[:200]
        path.write_bytes(hostile.data)
        print(f"{path.name}\t{hostile.label}")


if __name__ == "__main__":
    main(sys.argv[1])
