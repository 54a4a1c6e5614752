"""The DuckDB engine the columnar readers share: one connection, and what its errors mean.

DuckDB is imported here only, and this module only when a file is Parquet or a CUR / FOCUS table:
the splitter's cold start never loads it. Its memory is capped (it spills to /tmp beyond the cap) and
it keeps insertion order: the readers number rows by their order in the file.
"""

import codecs
import fcntl
import os
import re
import select
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING

from credits_pipeline.formats.base import FileRejected
from credits_pipeline.formats.containers import Part

if TYPE_CHECKING:
    import duckdb

# Of the splitter's 1,024 MB: DuckDB's buffers stay below this, the rest spills to TEMP_DIRECTORY.
MEMORY_LIMIT = "128MB"
THREADS = 2
TEMP_DIRECTORY = os.path.join(tempfile.gettempdir(), "credits-columnar")
COPY_CHUNK = 1024 * 1024
PIPE_BYTES = 1024 * 1024  # Linux's pipe-max-size for an unprivileged process
F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)
_connection: "duckdb.DuckDBPyConnection | None" = None


def connection() -> "duckdb.DuckDBPyConnection":
    """The process's DuckDB connection (in memory), made on first use and kept for warm invocations."""
    global _connection  # noqa: PLW0603 - one engine per process, as Lambda reuses it
    if _connection is None:
        import duckdb  # noqa: PLC0415 - lazy: only tabular credit files need the engine

        os.makedirs(TEMP_DIRECTORY, exist_ok=True)
        _connection = duckdb.connect(
            config={
                "memory_limit": MEMORY_LIMIT,
                "threads": THREADS,
                "temp_directory": TEMP_DIRECTORY,
                # Rows are numbered in the order of the file (row_number() OVER ()): keep that order.
                "preserve_insertion_order": True,
                "enable_external_access": True,
                "autoinstall_known_extensions": False,
                "autoload_known_extensions": False,
                # Each file is read at a path a later file may take (/proc/self/fd/N): DuckDB's cache of file
                # blocks knows a file by its path, size and modification time, so a file of the same size
                # written in the same clock tick was read as the one before it.
                "enable_external_file_cache": False,
            }
        )
        _in_utc(_connection)
    return _connection


def discard_if_broken(error: BaseException) -> None:
    """After an internal or fatal error DuckDB's database is invalid: the next file gets a new one."""
    global _connection  # noqa: PLW0603 - the process's one engine
    import duckdb  # noqa: PLC0415

    if isinstance(error, duckdb.InternalException | duckdb.FatalException) and _connection is not None:
        with suppress(duckdb.Error):
            _connection.close()
        _connection = None


def cursor() -> "duckdb.DuckDBPyConnection":
    """A cursor of the connection, for a query read in batches beside others (settings are per cursor)."""
    return _in_utc(connection().cursor())


def _in_utc(connection: "duckdb.DuckDBPyConnection") -> "duckdb.DuckDBPyConnection":
    # A billing period stored with a time zone is written in UTC (`2024-10-01 00:00:00+00`), as AWS
    # bills, whatever the machine's zone: in New York October's would read as September.
    connection.execute("SET TimeZone = 'UTC'")
    return connection


def is_damage(error: BaseException) -> bool:
    """Whether a DuckDB error says the file is damaged or not what it claims (a clean rejection).

    What the reader says about the input (unreadable CSV, invalid Parquet, a value that does not convert)
    is damage, and so is an error of the libraries that decode a file's bytes (Thrift's `Invalid data`
    in a Parquet footer, Snappy's), which DuckDB passes on as its base Error. Anything else (memory,
    a full /tmp, DuckDB's internal errors) is ours and fails loudly.
    """
    import duckdb  # noqa: PLC0415

    return isinstance(error, duckdb.InvalidInputException | duckdb.ConversionException) or type(error) is duckdb.Error


# Where DuckDB read the file from (the download's descriptor or a copy in /tmp) means nothing to an operator.
_READ_FROM = re.compile(r"'?(?:/proc/self/fd/\d+|" + re.escape(TEMP_DIRECTORY) + r"/[^'\s]*)'?")


def rejection(error: BaseException, what: str) -> FileRejected:
    detail = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return FileRejected(f"{what}: {_READ_FROM.sub('the file', detail)[:200]}")


def sql_text(value: str) -> str:
    """A SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def sql_name(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


@contextmanager
def file_path(part: Part) -> Iterator[str]:
    """A path DuckDB can open for a part: the upload's own file where it has one, else a copy in /tmp."""
    stream = part.open()
    try:
        if not part.owned and os.path.isdir("/proc/self/fd"):
            try:
                stream.flush()
                descriptor = stream.fileno()  # a spooled download moves to its file here
            except (OSError, AttributeError, ValueError):
                descriptor = -1
            if descriptor >= 0:
                yield f"/proc/self/fd/{descriptor}"
                return
        if stream.seekable():
            stream.seek(0)
        os.makedirs(TEMP_DIRECTORY, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=TEMP_DIRECTORY, suffix=".part") as copy:
            shutil.copyfileobj(stream, copy, COPY_CHUNK)
            copy.flush()
            yield copy.name
    finally:
        if part.owned:
            stream.close()


@dataclass
class LineEnds:
    """What a text's line ends are: how many lines it has, whether a lone CR is among them, and whether
    the whole text is UTF-8 (the format was told from its head: DuckDB fails on a bad byte past it, with
    an internal error that ends its database, or reads past it in a column no rule reads)."""

    newlines: int = 0
    carriage_returns: int = 0
    crlf: int = 0
    last: bytes = b""
    utf8: bool = True
    _decoder: codecs.IncrementalDecoder = field(default_factory=codecs.getincrementaldecoder("utf-8"))

    def add(self, chunk: bytes) -> None:
        if not chunk:
            return
        # ASCII (most of a CUR) is checked at memchr speed; the rest, and a sequence cut by a chunk, decoded.
        if self.utf8 and not (chunk.isascii() and not self._decoder.getstate()[0]):
            try:
                self._decoder.decode(chunk)
            except UnicodeDecodeError:
                self.utf8 = False
        self.newlines += chunk.count(b"\n")
        if b"\r" in chunk:  # a search at memchr speed: most CURs have no CR to count
            self.carriage_returns += chunk.count(b"\r")
            self.crlf += chunk.count(b"\r\n")
        if self.last == b"\r" and chunk[:1] == b"\n":
            self.crlf += 1
        self.last = chunk[-1:]

    @property
    def whole_utf8(self) -> bool:
        """Every byte counted so far is UTF-8, and no sequence is left unfinished at the end."""
        return self.utf8 and not self._decoder.getstate()[0]

    @property
    def lines(self) -> int | None:
        """Lines as the csv module numbers them; None when a lone CR also ends lines (not counted here)."""
        if self.carriage_returns != self.crlf:
            return None
        return self.newlines + (1 if self.last not in (b"", b"\n") else 0)


def count_line_ends(path: str) -> Callable[[], LineEnds]:
    """Start counting a file's line ends beside the engine's work; the call returns them once counted."""
    ends = LineEnds()
    errors: list[BaseException] = []

    def count() -> None:
        try:
            with open(path, "rb") as text:
                while chunk := text.read(8 * COPY_CHUNK):
                    ends.add(chunk)
        except BaseException as error:  # raised in the reading thread
            errors.append(error)

    counting = threading.Thread(target=count, name="columnar-lines", daemon=True)
    counting.start()

    def counted() -> LineEnds:
        counting.join()
        if errors:
            raise errors[0]
        return ends

    return counted


class _Feed:
    """A part's bytes written into a pipe by a thread, for DuckDB to read as a file while they inflate."""

    def __init__(self, part: Part) -> None:
        self.part = part
        self.ends = LineEnds()
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._read, self._write = os.pipe()
        os.set_blocking(self._write, False)
        # A larger pipe: fewer wake-ups of the writer and of DuckDB's reader (the kernel's size works too).
        with suppress(OSError):
            fcntl.fcntl(self._write, F_SETPIPE_SZ, PIPE_BYTES)
        self._thread = threading.Thread(target=self._run, name="columnar-feed", daemon=True)

    @property
    def path(self) -> str:
        return f"/proc/self/fd/{self._read}"

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        try:
            stream: IO[bytes] = self.part.open()
            try:
                while not self._stop.is_set() and (chunk := stream.read(COPY_CHUNK)):
                    self.ends.add(chunk)
                    self._send(memoryview(chunk))
            finally:
                if self.part.owned:
                    stream.close()
        except BrokenPipeError:
            pass  # the reader stopped (a CSV error, or it is done): what it says decides
        except BaseException as error:  # handed to the reading thread, which raises it
            self.error = error
        finally:
            os.close(self._write)

    def _send(self, data: memoryview) -> None:
        while data and not self._stop.is_set():
            try:
                data = data[os.write(self._write, data) :]
            except BlockingIOError:
                select.select([], [self._write], [], 0.2)

    def close(self) -> None:
        self._stop.set()
        os.close(self._read)
        self._thread.join()


@contextmanager
def piped(part: Part) -> Iterator[_Feed]:
    """A part streamed to DuckDB through a pipe (a gzip inflates once, under the archive limits).

    An error of the stream (a limit passed, a damaged gzip) is raised after the reading ends, in place of
    what DuckDB made of the cut stream.
    """
    feed = _Feed(part)
    feed.start()
    try:
        yield feed
    finally:
        feed.close()
        if feed.error is not None:
            raise feed.error
