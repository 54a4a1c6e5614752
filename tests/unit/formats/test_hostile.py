"""Hostile and absurd uploads are refused with a reason, cheaply: bombs, nesting, huge archives, absurd rows."""

import gzip
import io
import zipfile
from decimal import Decimal

import pytest

from credits_pipeline.formats.base import MAX_REASON_CHARS, ArchiveLimits
from credits_pipeline.formats.normalise import MAX_ROW_TEXT
from tests.unit.formats.helpers import FIXTURES, read_bytes, rejected_bytes

ROW = b"000000000001,$1.00\n"
SMALL = ArchiveLimits(max_decompressed_bytes=4 * 1024**2, ratio_checked_after=1024**2)
# One repeated row compresses about 200x: a ratio limit of 100 stands for the real 250 on a real bomb.
RATIO = ArchiveLimits(max_compression_ratio=100, ratio_checked_after=256 * 1024)
BOMB = ROW * (2 * 1024**2 // len(ROW))  # a valid head, then 2 MiB of one row
SHEET_HEADER = b"Linked account,Invoice Month,Credit Name,Service,Amount (USD)\n"


def gzipped(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def zipped(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_a_gzip_bomb_is_refused_by_its_ratio() -> None:
    rejection = rejected_bytes(gzipped(BOMB), limits=RATIO)
    assert "decompresses to over" in str(rejection)
    assert "MAX_COMPRESSION_RATIO" in str(rejection)


def test_a_file_that_expands_past_the_size_limit_is_refused() -> None:
    # Varied rows compress modestly: it is the size, not the ratio, that stops this one.
    rows = b"".join(f"{n:012d},${n % 997}.{n % 100:02d}\n".encode() for n in range(300_000))
    rejection = rejected_bytes(gzipped(rows), limits=SMALL)
    assert "decompresses to more than 4,194,304 bytes" in str(rejection)


@pytest.mark.parametrize("member", ["part-{}.csv", "part-{}.csv.gz"])
def test_the_members_of_a_zip_count_together_against_the_size_limit(member: str) -> None:
    # Each member is under the limit; together they are three times over it.
    part = ROW * (100 * 1024 // len(ROW))
    members = {member.format(n): gzipped(part) if member.endswith(".gz") else part for n in range(3)}
    rejection = rejected_bytes(zipped(members), limits=ArchiveLimits(max_decompressed_bytes=256 * 1024))
    assert "the archive's files together decompress to more than 262,144 bytes" in str(rejection)


def test_a_zip_member_bomb_is_refused_too() -> None:
    rejection = rejected_bytes(zipped({"credits-2026-01.csv": BOMB}), limits=RATIO)
    assert "credits-2026-01.csv decompresses to over" in str(rejection)


def test_the_limits_leave_ordinary_compressed_files_alone() -> None:
    rows = b"".join(f"{n:012d},$1.{n % 100:02d}\n".encode() for n in range(1, 2001))
    credit_file = read_bytes(gzipped(rows), limits=SMALL)
    assert credit_file.months["2026-01"].accounts == 2000


def test_a_gzip_inside_a_gzip_is_refused() -> None:
    rejection = rejected_bytes(gzipped(gzipped(ROW)))
    assert "compressed twice over" in str(rejection)


def test_a_zip_inside_a_zip_is_refused() -> None:
    rejection = rejected_bytes(zipped({"inner.zip": zipped({"credits-2026-01.csv": ROW})}))
    assert "zip inside an archive" in str(rejection)


def test_a_zip_of_too_many_entries_is_refused() -> None:
    members = {f"part-{n}.csv": ROW for n in range(ArchiveLimits().max_archive_members + 1)}
    rejection = rejected_bytes(zipped(members))
    assert "entries, more than 200" in str(rejection)


def test_a_member_path_is_a_label_never_a_path() -> None:
    # A zip-slip name is read as data like any other member name: nothing is written anywhere.
    credit_file = read_bytes(zipped({"../../../etc/credits-2026-01.csv": ROW}))
    assert credit_file.months["2026-01"].total == Decimal("-1.00")


def test_a_row_of_absurdly_many_columns_is_refused_with_its_line() -> None:
    good = b"".join(f"{n:012d},$1.00\n".encode() for n in range(1, 5001))  # past what detection samples
    data = good + b"000000000002," + b",".join([b"1"] * 5000) + b"\n"
    rejection = rejected_bytes(data)
    assert rejection.line == 5001
    assert "5,001 columns" in str(rejection)


def test_an_absurdly_long_cell_is_refused() -> None:
    rejection = rejected_bytes(ROW + b"000000000002,$" + b"9" * 200_000 + b"\n")
    assert "field larger than field limit" in str(rejection)


@pytest.mark.parametrize(
    "amount",
    ["NaN", "Infinity", "-inf", "1e309", "sNaN", "1" * 40, "1e999999999999999999999", "1e-999999999999999999999"],
)
def test_amounts_that_are_not_money_are_skipped_with_their_line(amount: str) -> None:
    good = b"".join(f"{n:012d},$1.00\n".encode() for n in range(1, 21))
    credit_file = read_bytes(good + f"000000000099,{amount}\n".encode())
    [skipped] = credit_file.skipped
    assert (skipped.line, skipped.account_id, skipped.category) == (21, "000000000099", "invalid")
    assert credit_file.months["2026-01"].total == Decimal("-20.00")


def test_a_billing_period_moved_off_the_calendar_is_an_invalid_row() -> None:
    good = b"".join(f"{n:012d},2024-09,Activate,EC2,1\n".encode() for n in range(1, 21))
    data = SHEET_HEADER + good + b"000000000099,9999-12-31T23:00:00-05:00,Activate,EC2,1\n"
    [skipped] = read_bytes(data, "incoming/credits.csv").skipped
    assert (skipped.line, skipped.category) == (22, "invalid")
    assert "not a date: '9999-12-31T23:00:00-05:00'" in skipped.reason


def test_the_texts_a_report_keeps_from_huge_cells_are_short() -> None:
    good = b"".join(f"{n:012d},$1.00\n".encode() for n in range(1, 101))
    junk = b"".join(f"{n}{'7' * 20_000},${'x' * 20_000}\n".encode() for n in range(5))
    credit_file = read_bytes(good + junk)
    assert len(credit_file.skipped) == 5
    for skipped in credit_file.skipped:
        assert len(skipped.reason) <= MAX_ROW_TEXT and len(skipped.account_id or "") <= MAX_ROW_TEXT


def test_a_rejection_quotes_huge_headers_short() -> None:
    rejection = rejected_bytes(b",".join([b"h" * 20_000] * 3) + b"\n1,2,3\n", "incoming/credits.csv")
    assert "unknown file shape" in str(rejection)
    assert len(str(rejection)) <= MAX_REASON_CHARS


def test_a_file_of_credits_in_more_months_than_a_back_fill_spans_is_rejected() -> None:
    rows = b"".join(f"000000000001,{2000 + n // 12}-{n % 12 + 1:02d},Activate,EC2,1\n".encode() for n in range(61))
    rejection = rejected_bytes(SHEET_HEADER + rows, "incoming/credits.csv")
    assert "credits for 61 months (2000-01..2005-01), more than 60" in str(rejection)


def test_json_nested_deeper_than_a_credit_file_is_refused_at_once() -> None:
    rejection = rejected_bytes(b"[" * 1_000_000, "incoming/credits.json")
    assert "nested deeper than 64" in str(rejection)


def test_a_file_with_many_such_amounts_is_rejected_whole_naming_the_lines() -> None:
    good = b"".join(f"{n:012d},$1.00\n".encode() for n in range(1, 6))
    rejection = rejected_bytes(good + b"000000000007,NaN\n000000000008,Infinity\n000000000009,1e309\n")
    assert [problem.split(":")[0] for problem in rejection.problems] == ["line 6", "line 7", "line 8"]


@pytest.mark.parametrize("cut", [8, 1_000])
def test_a_damaged_parquet_is_rejected_without_naming_where_the_engine_read_it(cut: int) -> None:
    whole = (FIXTURES / "cur2" / "cur2-2025-01.parquet").read_bytes()
    damaged = whole[:4] + whole[4:cut] + b"PAR1" if cut > 8 else whole[:cut]

    reason = str(rejected_bytes(damaged, "cur2-2025-01.parquet"))

    assert "Parquet file cannot be read" in reason
    assert "/tmp" not in reason and "/proc" not in reason
