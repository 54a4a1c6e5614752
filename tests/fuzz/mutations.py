"""Byte-level damage to a file: each mutator takes the bytes and a seeded Random, and returns new bytes.

Blind to the format on purpose: the same damage hits a CSV, a gzip header or a Parquet footer.
`inside` damages what a gzip or zip holds and packs it again, so the damage reaches the parser.
"""

import gzip
import io
import random
import zipfile
from collections.abc import Callable

Mutator = Callable[[bytes, random.Random], bytes]

# Bytes that mean something to a decoder or a CSV reader: more likely to find a crash than noise.
TOKENS = (
    b"\x00",
    b'"',
    b'""',
    b"\r",
    b"\n",
    b"\r\n",
    b",",
    b";",
    b"\t",
    b"\\",
    b"'",
    b"\xef\xbb\xbf",  # a UTF-8 BOM
    b"\xff\xfe",  # a UTF-16 BOM
    b"\xc3",  # half a UTF-8 sequence
    b"\xed\xa0\x80",  # an encoded surrogate
    b"\xe2\x80\xae",  # right-to-left override
    b"NaN",
    b"-Infinity",
    b"1e309",
    b"1e999999999999999999999",
    b"-0",
    b"9" * 40,
    b"1.23457E+11",
    b'=HYPERLINK("x")',
    b"\x1f\x8b",  # gzip magic
    b"PK\x03\x04",  # zip magic
    b"PAR1",
    b"{",
    b"[",
    b"]}",
)


def flip_bytes(data: bytes, rng: random.Random) -> bytes:
    if not data:
        return bytes([rng.randrange(256)])
    damaged = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        damaged[rng.randrange(len(damaged))] ^= rng.randint(1, 255)
    return bytes(damaged)


def flip_bits(data: bytes, rng: random.Random) -> bytes:
    if not data:
        return b"\x01"
    damaged = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        damaged[rng.randrange(len(damaged))] ^= 1 << rng.randrange(8)
    return bytes(damaged)


def truncate(data: bytes, rng: random.Random) -> bytes:
    # The first bytes, the middle, or one byte short: each trips a different reader.
    cut = rng.choice((0, 1, 2, 10, len(data) // 2, len(data) - 1, rng.randrange(len(data) + 1)))
    return data[: max(0, min(cut, len(data) - 1))]


def insert_tokens(data: bytes, rng: random.Random) -> bytes:
    damaged = data
    for _ in range(rng.randint(1, 6)):
        at = rng.randrange(len(damaged) + 1)
        damaged = damaged[:at] + rng.choice(TOKENS) + damaged[at:]
    return damaged


def delete_span(data: bytes, rng: random.Random) -> bytes:
    if len(data) < 2:
        return b""
    start = rng.randrange(len(data))
    return data[:start] + data[start + rng.randint(1, max(1, len(data) // 4)) :]


def repeat_span(data: bytes, rng: random.Random) -> bytes:
    if not data:
        return b"," * 1000
    start = rng.randrange(len(data))
    span = data[start : start + rng.randint(1, 64)]
    return data[:start] + span * rng.randint(2, 2000) + data[start:]


def damage_header(data: bytes, rng: random.Random) -> bytes:
    """The first line (or a binary file's magic bytes) mangled: cased, cut, doubled or overwritten."""
    end = data.find(b"\n")
    first, rest = (data, b"") if end < 0 else (data[:end], data[end:])
    choice = rng.randrange(6)
    if choice == 0:
        first = first.upper()
    elif choice == 1:
        first = first[: len(first) // 2]
    elif choice == 2:
        first = first.replace(b",", b",,", 1)
    elif choice == 3:
        first = bytes(rng.randrange(256) for _ in range(min(8, len(first) or 1))) + first[8:]
    elif choice == 4:
        cells = first.split(b",")
        rng.shuffle(cells)
        first = b",".join(cells)
    else:
        first = first + b"," + first
    return first + rest


def swap_delimiters(data: bytes, rng: random.Random) -> bytes:
    old, new = rng.sample([b",", b";", b"\t", b"|", b'"', b"\n", b"\r\n", b"\r"], 2)
    return data.replace(old, new)


def splice(data: bytes, rng: random.Random, other: bytes) -> bytes:
    """The head of one file on the tail of another."""
    return data[: rng.randrange(len(data) + 1)] + other[rng.randrange(len(other) + 1) :]


# Every fixture gets each of these; and one of the others.
DAMAGE: tuple[Mutator, ...] = (flip_bytes, truncate, insert_tokens, damage_header, swap_delimiters)
MORE_DAMAGE: tuple[Mutator, ...] = (flip_bits, delete_span, repeat_span)
BLIND = DAMAGE + MORE_DAMAGE


def inside(data: bytes, rng: random.Random, mutate: Mutator) -> bytes | None:
    """A gzip or zip with its content damaged and packed again; None when `data` is neither."""
    if data.startswith(b"\x1f\x8b"):
        return gzip.compress(mutate(gzip.decompress(data), rng), mtime=0)
    if data.startswith(b"PK\x03\x04"):
        buffer = io.BytesIO()
        with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as packed:
            for info in source.infolist():
                member = source.read(info)
                packed.writestr(info.filename, mutate(member, rng) if rng.random() < 0.7 else member)
        return buffer.getvalue()
    return None
