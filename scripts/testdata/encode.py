"""Bytes as the files have them: CSV text, gzip and zip with fixed times (same input, same bytes), Parquet."""

import csv
import gzip
import io
import json
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from itertools import islice
from pathlib import Path
from typing import Any, Literal

ZIP_TIME = (2025, 1, 1, 0, 0, 0)

# How a Parquet column stores its string cells; "string" (the default) writes "" as null; "map" reads
# each cell as a JSON object of strings (AWS writes Tags and x_Discounts as map columns), "" as null.
ParquetType = Literal["string", "double", "decimal", "timestamp", "dictionary", "map"]

# What csv.writer takes for `quoting` (its QUOTE_* constants).
Quoting = Literal[0, 1, 2, 3, 4, 5]

Rows = Iterable[Sequence[str]]


def csv_text(rows: Rows, delimiter: str = ",", newline: str = "\n", quoting: Quoting = csv.QUOTE_MINIMAL) -> str:
    """Rows as a CSV writer quotes them (by default a cell with the delimiter or a quote is quoted)."""
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator=newline, quoting=quoting).writerows(rows)
    return buffer.getvalue()


def write_csv(path: Path, rows: Rows, chunk_rows: int = 10_000) -> None:
    """Rows written as `csv_text` writes them, a chunk at a time (a table too big to hold); gzip when `path`
    ends `.gz`."""
    remaining = iter(rows)
    gz = path.suffix == ".gz"
    with (
        gzip.open(path, "wt", encoding="utf-8", newline="")
        if gz
        else path.open("w", encoding="utf-8", newline="") as out
    ):
        while chunk := list(islice(remaining, chunk_rows)):
            out.write(csv_text(chunk))


def gzipped(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def zipped(members: Mapping[str, bytes]) -> bytes:
    """A deflated zip archive whose members carry a fixed time, in the order given."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(zipfile.ZipInfo(name, ZIP_TIME), data, compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def parquet_bytes(table: Sequence[Sequence[str]], types: Mapping[str, ParquetType]) -> bytes:
    """A header row and string rows as one snappy Parquet file; `types` names the columns not stored as strings."""
    import pyarrow.parquet as pq  # noqa: PLC0415 - only Parquet builders need pyarrow

    buffer = io.BytesIO()
    pq.write_table(_arrow_table(table[0], table[1:], types), buffer, compression="snappy")
    return buffer.getvalue()


def write_parquet(
    path: Path, header: Sequence[str], batches: Iterable[Sequence[Sequence[str]]], types: Mapping[str, ParquetType]
) -> None:
    """A large Parquet file written batch by batch: one row group per batch, memory bounded by one batch."""
    import pyarrow.parquet as pq  # noqa: PLC0415

    writer: Any = None
    try:
        for rows in batches:
            table = _arrow_table(header, rows, types)
            if writer is None:
                writer = pq.ParquetWriter(path, table.schema, compression="snappy")
            writer.write_table(table)
    finally:
        if writer is not None:
            writer.close()


def _arrow_table(header: Sequence[str], rows: Sequence[Sequence[str]], types: Mapping[str, ParquetType]) -> Any:
    import pyarrow as pa  # noqa: PLC0415

    arrays = {}
    for index, name in enumerate(header):
        values = [row[index] for row in rows]
        kind = types.get(name, "string")
        if kind == "double":
            arrays[name] = pa.array([float(v) for v in values], pa.float64())
        elif kind == "decimal":
            arrays[name] = pa.array([Decimal(v) for v in values], pa.decimal128(24, 14))
        elif kind == "timestamp":
            moments = [datetime.fromisoformat(v.replace("Z", "+00:00")) for v in values]
            arrays[name] = pa.array(moments, pa.timestamp("ms", tz="UTC"))
        elif kind == "dictionary":
            arrays[name] = pa.array(values, pa.string()).dictionary_encode()
        elif kind == "map":
            entries = [list(json.loads(v).items()) if v else None for v in values]
            arrays[name] = pa.array(entries, pa.map_(pa.string(), pa.string()))
        else:
            arrays[name] = pa.array([v or None for v in values], pa.string())
    return pa.table(arrays)
