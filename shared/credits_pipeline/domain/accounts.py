"""AWS account ids: twelve digits, read as text."""

import re
from collections.abc import Iterable

_SCIENTIFIC = re.compile(r"^\d+(\.\d+)?[eE][+-]?\d+$")
_SEPARATORS = re.compile(r"[\s\-\u00a0]")


class InvalidAccountId(ValueError):
    """An account id that is not a 12-digit AWS account id; the message is the reason."""


def normalise_account_id(text: str) -> str:
    """Pad numeric ids to 12 digits; strip a leading `'`, spaces and dashes.

    An id in scientific notation has lost digits: it is rejected, never guessed.
    """
    raw = text.strip().lstrip("'").strip()
    if not raw:
        raise InvalidAccountId("missing account id")
    if _SCIENTIFIC.match(raw):
        raise InvalidAccountId(f"account id {raw!r} is in scientific notation (digits lost)")
    digits = _SEPARATORS.sub("", raw)
    if digits.endswith(".0"):  # a spreadsheet wrote the id as a float
        digits = digits[:-2]
    if not digits.isascii() or not digits.isdigit():
        raise InvalidAccountId(f"account id {raw!r} is not numeric")
    if len(digits) > 12:
        raise InvalidAccountId(f"account id {raw!r} has more than 12 digits")
    return digits.zfill(12)


def account_set(values: Iterable[str] | None) -> frozenset[str] | None:
    """A known-accounts list read as the files' ids are read (12 digits, dashes dropped); empty means any."""
    if not values:
        return None
    return frozenset(normalise_account_id(value) for value in values)
