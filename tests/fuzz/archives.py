"""Hostile containers: bombs, nesting, damaged gzip and zip structures, broken Parquet.

Sizes are relative to the limits the fuzz gives the splitter (`LIMITS`): a bomb expands to a few times
MAX_DECOMPRESSED_BYTES, so it must be refused, and refusing it costs a fraction of a second.
"""

import gzip
import io
import random
import struct
import warnings
import zipfile
import zlib
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal

from credits_pipeline.formats.base import ArchiveLimits

# What the fuzz sets through the splitter's environment: small, so that bombs stay cheap to refuse.
LIMITS = ArchiveLimits(max_decompressed_bytes=1024**2, max_compression_ratio=50, max_archive_members=20)
ROW = b"073933415963,$1.00\n"

Made = tuple[str, str, bytes]  # (what it is, file name, bytes)


def gzipped(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def gzip_repeated(chunk: bytes, total: int) -> bytes:
    """`chunk` repeated to `total` bytes, gzipped without holding the expanded bytes."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    pieces = [packer.compress(chunk * (total // len(chunk) // 64 or 1)) for _ in range(64)]
    return b"".join(pieces) + packer.flush()


def zipped(members: list[tuple[str, bytes]], method: int = zipfile.ZIP_DEFLATED, *, force_zip64: bool = False) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a duplicate name is one of the hostile inputs
        for name, data in members:
            info = zipfile.ZipInfo(name, (2026, 1, 1, 0, 0, 0))
            info.compress_type = method
            with archive.open(info, "w", force_zip64=force_zip64) as member:
                member.write(data)
    return buffer.getvalue()


def zip_repeated(name: str, chunk: bytes, total: int) -> bytes:
    """One deflated member of `chunk` repeated to `total` bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        info = zipfile.ZipInfo(name, (2026, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        with archive.open(info, "w", force_zip64=True) as member:
            block = chunk * (1024**2 // len(chunk))
            for _ in range(total // len(block)):
                member.write(block)
    return buffer.getvalue()


def _patched(data: bytes, offset: int, fmt: str, value: int) -> bytes:
    damaged = bytearray(data)
    struct.pack_into(fmt, damaged, offset, value)
    return bytes(damaged)


def _central_offset(data: bytes) -> int:
    return data.rindex(b"PK\x01\x02")


def bombs(rows: bytes) -> Iterator[Made]:
    cap = LIMITS.max_decompressed_bytes
    yield "gzip bomb of one repeated row", "credits-2026-01.csv.gz", gzip_repeated(ROW, 4 * cap)
    yield "gzip bomb of newlines", "credits-2026-01.csv.gz", gzip_repeated(b"\n", 4 * cap)
    yield "gzip bomb of one endless line", "credits-2026-01.csv.gz", gzip_repeated(b"9", 4 * cap)
    yield "gzip bomb behind a valid head", "credits-2026-01.csv.gz", gzipped(rows) + gzip_repeated(ROW, 4 * cap)
    yield "gzip bomb of JSON", "credits.json.gz", gzip_repeated(b'{"accountId": "073933415963"},', 4 * cap)
    yield "zip bomb member", "credits-2026-01.zip", zip_repeated("credits-2026-01.csv", ROW, 4 * cap)
    near_cap = cap - 64 * 1024
    rows_near_cap = ROW * (near_cap // len(ROW))
    members = [(f"part-{n}.csv", rows_near_cap) for n in range(LIMITS.max_archive_members)]
    yield "zip of the most members, each just under the size cap", "credits-2026-01.zip", zipped(members)
    gz_members = [(f"part-{n}.csv.gz", gzip_repeated(ROW, near_cap)) for n in range(LIMITS.max_archive_members)]
    yield "zip of the most .gz members, each just under the size cap", "credits-2026-01.zip", zipped(gz_members)
    yield (
        "gzip of distinct rows past the size cap",
        "credits-2026-01.csv.gz",
        gzipped(b"".join(f"{n:012d},${n % 997}.{n % 100:02d}\n".encode() for n in range(cap // 16))),
    )


def many_members(rows: bytes) -> Iterator[Made]:
    cap = LIMITS.max_archive_members
    for count in (cap, cap + 1, 500, 5000):
        members = [(f"part-{n:05d}.csv", rows) for n in range(count)]
        yield f"zip of {count} members", "credits-2026-01.zip", zipped(members)
    yield "zip of directories only", "credits-2026-01.zip", zipped([(f"d{n}/", b"") for n in range(5)])
    yield (
        "zip of __MACOSX and dot files only",
        "credits-2026-01.zip",
        zipped([("__MACOSX/._credits.csv", rows), (".hidden.csv", rows)]),
    )
    yield "zip of a manifest only", "credits-2026-01.zip", zipped([("cur-Manifest.json", b'{"reportKeys": []}')])
    yield "zip of empty members", "credits-2026-01.zip", zipped([("a.csv", b""), ("b.csv", b"")])
    yield "empty zip", "credits-2026-01.zip", zipped([])
    yield "zip of a CSV and a Parquet", "credits-2026-01.zip", zipped([("a.csv", rows), ("b.parquet", parquet())])
    yield "zip of a CSV and a JSON", "credits-2026-01.zip", zipped([("a.csv", rows), ("b.json", b'[{"a": 1}]')])
    yield "zip of the same name twice", "credits-2026-01.zip", zipped([("a.csv", rows), ("a.csv", b"x,y\n")])
    yield (
        "zip of parts with other headers",
        "cur-2024-09.zip",
        zipped([("part-1.csv", b"a,b\n1,2\n"), ("part-2.csv", b"c,d\n3,4\n")]),
    )


def nesting(rows: bytes) -> Iterator[Made]:
    inner_zip = zipped([("credits-2026-01.csv", rows)])
    yield "zip in a zip", "credits-2026-01.zip", zipped([("inner.zip", inner_zip)])
    yield "zip in a zip in a zip", "credits-2026-01.zip", zipped([("a.zip", zipped([("b.zip", inner_zip)]))])
    yield "gzip in a gzip", "credits-2026-01.csv.gz", gzipped(gzipped(rows))
    yield "gzip in a gzip in a gzip", "credits-2026-01.csv.gz.gz.gz", gzipped(gzipped(gzipped(rows)))
    yield "zip in a gzip", "credits-2026-01.zip.gz", gzipped(inner_zip)
    yield "gzip in a zip (a CUR part)", "credits-2026-01.zip", zipped([("credits-2026-01.csv.gz", gzipped(rows))])
    yield "zip in a gzip in a zip", "credits-2026-01.zip", zipped([("x.zip.gz", gzipped(inner_zip))])
    yield "gzip in a gzip in a zip", "credits-2026-01.zip", zipped([("x.csv.gz.gz", gzipped(gzipped(rows)))])
    yield "Parquet in a gzip", "credits.parquet.gz", gzipped(parquet())
    yield "Parquet in a zip", "credits.zip", zipped([("credits.parquet", parquet())])


def damaged_gzip(rows: bytes, rng: random.Random) -> Iterator[Made]:
    packed = gzipped(rows * 50)
    for cut in (2, 10, 11, len(packed) // 2, len(packed) - 8, len(packed) - 4, len(packed) - 1):
        yield f"gzip cut at byte {cut}", "credits-2026-01.csv.gz", packed[:cut]
    yield "gzip with a wrong CRC", "credits-2026-01.csv.gz", _patched(packed, len(packed) - 8, "<I", 0xDEADBEEF)
    yield "gzip with a wrong length", "credits-2026-01.csv.gz", _patched(packed, len(packed) - 4, "<I", 7)
    yield "gzip with trailing garbage", "credits-2026-01.csv.gz", packed + b"garbage after the stream"
    yield "gzip with trailing zeros", "credits-2026-01.csv.gz", packed + b"\x00" * 1024
    yield "two gzip members", "credits-2026-01.csv.gz", gzipped(rows) + gzipped(rows)
    yield "gzip with reserved flag bits", "credits-2026-01.csv.gz", _patched(packed, 3, "<B", 0xE0)
    yield "gzip with an unknown method", "credits-2026-01.csv.gz", _patched(packed, 2, "<B", 7)
    named = b"\x1f\x8b\x08\x08" + b"\x00" * 6 + b"n" * 70_000 + b"\x00" + zlib.compress(rows)[2:-4]
    yield "gzip with a 70 KB file name and no trailer", "credits-2026-01.csv.gz", named
    extra = b"\x1f\x8b\x08\x04" + b"\x00" * 6 + struct.pack("<H", 65535) + b"x" * 100
    yield "gzip with an FEXTRA longer than the file", "credits-2026-01.csv.gz", extra
    yield "gzip of nothing", "credits-2026-01.csv.gz", gzipped(b"")
    yield "gzip of whitespace", "credits-2026-01.csv.gz", gzipped(b" \r\n\t" * 10_000)
    yield "gzip magic then noise", "credits-2026-01.csv.gz", b"\x1f\x8b" + rng.randbytes(4000)


def damaged_zip(rows: bytes, rng: random.Random) -> Iterator[Made]:
    packed = zipped([("credits-2026-01.csv", rows * 20)])
    for cut in (4, 30, len(packed) // 2, _central_offset(packed), len(packed) - 22, len(packed) - 1):
        yield f"zip cut at byte {cut}", "credits-2026-01.zip", packed[:cut]
    encrypted = _patched(packed, 6, "<H", 0x1)
    yield (
        "zip member flagged encrypted",
        "credits-2026-01.zip",
        _patched(encrypted, _central_offset(encrypted) + 8, "<H", 0x1),
    )
    two = zipped([("a-2026-01.csv", rows), ("b-2026-01.csv", rows)])
    yield (
        "zip with one member flagged encrypted",
        "credits-2026-01.zip",
        _patched(two, _central_offset(two) + 8, "<H", 0x1),
    )
    central = _central_offset(packed)
    yield (
        "zip with an unknown compression method",
        "credits-2026-01.zip",
        _patched(_patched(packed, 8, "<H", 99), central + 10, "<H", 99),
    )
    yield "zip declaring a smaller size", "credits-2026-01.zip", _patched(packed, central + 24, "<I", 10)
    yield "zip declaring a 4 GB size", "credits-2026-01.zip", _patched(packed, central + 24, "<I", 0xFFFFFFF0)
    yield "zip with a wrong CRC", "credits-2026-01.zip", _patched(_patched(packed, 14, "<I", 0), central + 16, "<I", 0)
    yield (
        "zip with a central directory pointing nowhere",
        "credits-2026-01.zip",
        _patched(packed, len(packed) - 6, "<I", 0x7FFFFFFF),
    )
    yield (
        "zip with an entry count of 65535",
        "credits-2026-01.zip",
        _patched(_patched(packed, len(packed) - 14, "<H", 0xFFFF), len(packed) - 12, "<H", 0xFFFF),
    )
    yield "zip stored, not deflated", "credits-2026-01.zip", zipped([("credits-2026-01.csv", rows)], zipfile.ZIP_STORED)
    yield "zip with bzip2", "credits-2026-01.zip", zipped([("credits-2026-01.csv", rows)], zipfile.ZIP_BZIP2)
    yield "zip with lzma", "credits-2026-01.zip", zipped([("credits-2026-01.csv", rows)], zipfile.ZIP_LZMA)
    yield "zip64", "credits-2026-01.zip", zipped([("credits-2026-01.csv", rows)], force_zip64=True)
    yield "zip with a prefix (self-extracting)", "credits-2026-01.zip", b"MZ" + rng.randbytes(500) + packed
    yield "zip magic then noise", "credits-2026-01.zip", b"PK\x03\x04" + rng.randbytes(4000)
    yield "end-of-zip magic then noise", "credits-2026-01.zip", b"PK\x05\x06" + rng.randbytes(40)


def zip_slip(rows: bytes) -> Iterator[Made]:
    names = (
        "../../../../etc/credits-2026-01.csv",
        "/etc/credits-2026-01.csv",
        "..\\..\\windows\\credits-2026-01.csv",
        "C:/credits-2026-01.csv",
        "credits\n2026-01\x1b[31m.csv",
        "crédits-2026-01-\u202etxt.csv",
        "a/" * 200 + "credits-2026-01.csv",
        "n" * 60_000 + ".csv",
    )
    for name in names:
        yield f"zip member named {name[:40]!r}", "credits-2026-01.zip", zipped([(name, rows)])


def parquet(columns: Mapping[str, Sequence[object]] | None = None, types: Mapping[str, object] | None = None) -> bytes:
    """A small Parquet file; a CUR 2.0 shape unless `columns` says otherwise."""
    import pyarrow as pa  # noqa: PLC0415 - only the fuzz needs it at generation time
    import pyarrow.parquet as pq  # noqa: PLC0415

    data = columns or {
        "line_item_usage_account_id": ["073933415963", "062951470133"],
        "line_item_line_item_type": ["Credit", "Credit"],
        "line_item_unblended_cost": [-1.5, -2.25],
        "bill_billing_period_start_date": ["2025-01-01T00:00:00Z", "2025-01-01T00:00:00Z"],
        "line_item_currency_code": ["USD", "USD"],
        "line_item_product_code": ["AmazonEC2", "AmazonS3"],
    }
    schema = pa.schema([(name, (types or {}).get(name) or pa.array(values).type) for name, values in data.items()])
    buffer = io.BytesIO()
    pq.write_table(pa.table(data, schema=schema), buffer)
    return buffer.getvalue()


def damaged_parquet(rng: random.Random) -> Iterator[Made]:
    import pyarrow as pa  # noqa: PLC0415

    good = parquet()
    yield "Parquet as written", "cur2-2025-01.parquet", good
    for cut in (4, 8, len(good) // 2, len(good) - 8, len(good) - 4, len(good) - 1):
        yield f"Parquet cut at byte {cut}", "cur2-2025-01.parquet", good[:cut]
    yield "Parquet magic twice", "cur2-2025-01.parquet", b"PAR1PAR1"
    yield (
        "Parquet with an absurd footer length",
        "cur2-2025-01.parquet",
        good[:-8] + struct.pack("<I", 0xFFFFFFF) + b"PAR1",
    )
    yield "Parquet magic then noise", "cur2-2025-01.parquet", b"PAR1" + rng.randbytes(5000) + b"PAR1"
    for _ in range(6):
        damaged = bytearray(good)
        for _ in range(rng.randint(1, 6)):
            damaged[rng.randrange(len(damaged))] = rng.randrange(256)
        yield "Parquet with flipped bytes", "cur2-2025-01.parquet", bytes(damaged)
    cur: dict[str, Sequence[object]] = {
        "line_item_usage_account_id": ["073933415963"] * 4,
        "line_item_line_item_type": ["Credit"] * 4,
        "bill_billing_period_start_date": ["2025-01-01T00:00:00Z"] * 4,
    }
    cost = "line_item_unblended_cost"
    yield (
        "Parquet costs NaN, Infinity and -0",
        "cur2-2025-01.parquet",
        parquet({**cur, cost: [float("nan"), float("inf"), float("-inf"), -0.0]}),
    )
    yield (
        "Parquet costs as decimal(38, 0) at the maximum",
        "cur2-2025-01.parquet",
        parquet({**cur, cost: [Decimal("9" * 38)] * 4}, {cost: pa.decimal128(38, 0)}),
    )
    yield "Parquet costs as a struct", "cur2-2025-01.parquet", parquet({**cur, cost: [{"a": 1}] * 4})
    yield "Parquet costs as lists", "cur2-2025-01.parquet", parquet({**cur, cost: [[1, 2]] * 4})
    yield "Parquet costs as binary", "cur2-2025-01.parquet", parquet({**cur, cost: [b"\xff\x00"] * 4})
    yield "Parquet of nulls", "cur2-2025-01.parquet", parquet({name: [None] * 4 for name in (*cur, cost)})
    yield "Parquet of no rows", "cur2-2025-01.parquet", parquet({name: [] for name in (*cur, cost)})
    yield (
        "Parquet periods at year 1 and 9999",
        "cur2-2025-01.parquet",
        parquet(
            {
                **cur,
                cost: [-1.0] * 4,
                "bill_billing_period_start_date": ["0001-01-01T00:00:00+05:00", "9999-12-31T23:00:00-05:00"] * 2,
            }
        ),
    )
    stamps = [datetime(1, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, 23, tzinfo=UTC)] * 2
    for zone in ("UTC", "America/New_York", "Pacific/Kiritimati"):
        yield (
            f"Parquet periods as {zone} timestamps at year 1 and 9999",
            "cur2-2025-01.parquet",
            parquet(
                {**cur, cost: [-1.0] * 4, "bill_billing_period_start_date": stamps},
                {"bill_billing_period_start_date": pa.timestamp("ms", tz=zone)},
            ),
        )
    yield "Parquet of 3,000 columns", "cur2-2025-01.parquet", parquet({f"c{n}": [n] for n in range(3000)})
    yield "Parquet with a 1 MB cell", "cur2-2025-01.parquet", parquet({**cur, cost: ["9" * 1024**2] * 4})
