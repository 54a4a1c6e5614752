"""Shared helpers for the format tests: read fixtures and bytes through the one public entry point."""

import io
from decimal import Decimal
from pathlib import Path

import pytest

from credits_pipeline.domain.credits import CreditFile
from credits_pipeline.formats import FileRejected, ParseConfig, read_credit_file

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "formats"


def fixture(relative: str) -> Path:
    return FIXTURES / relative


def read_fixture(relative: str, name: str | None = None, **config) -> CreditFile:
    path = fixture(relative)
    with path.open("rb") as data:
        return read_credit_file(data, name or f"incoming/{path.name}", ParseConfig(**config))


def read_bytes(data: bytes, name: str = "incoming/credits-2026-01.csv", **config) -> CreditFile:
    return read_credit_file(io.BytesIO(data), name, ParseConfig(**config))


def rejected_fixture(relative: str, name: str | None = None, **config) -> FileRejected:
    with pytest.raises(FileRejected) as caught:
        read_fixture(relative, name, **config)
    return caught.value


def rejected_bytes(data: bytes, name: str = "incoming/credits-2026-01.csv", **config) -> FileRejected:
    with pytest.raises(FileRejected) as caught:
        read_bytes(data, name, **config)
    return caught.value


def totals(credit_file: CreditFile) -> dict[str, Decimal]:
    return {month: credits.total for month, credits in credit_file.months.items()}


def credits_of(credit_file: CreditFile, month: str) -> dict[tuple[str, str, str], Decimal]:
    """(account, service, description) -> cost for one month."""
    return {(c.account_id, c.service, c.description): c.cost for c in credit_file.months[month].credits}
