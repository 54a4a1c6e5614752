"""AWS account ids: twelve digits, read as text."""

import re
from collections.abc import Iterable

_SCIENTIFIC = re.compile(r"^\d+(\.\d+)?[eE][+-]?\d+$")
# The spaces people write inside an id (a space, NBSP): any whitespace but a tab or a line break, which part
# cells. A tab inside a cell means the file was split at the wrong delimiter, never a readable id.
ID_SPACE = r"[^\S\t\n\r\x0b\x0c\x1c-\x1f\x85\u2028\u2029]"
_SEPARATORS = re.compile(rf"{ID_SPACE}|-")


class InvalidAccountId(ValueError):
    """An account id that is not a 12-digit AWS account id; the message is the reason."""


ACCOUNT_ID_DIGITS = 12


def normalise_account_id(text: str, *, pad: bool = True) -> str:
    """Pad numeric ids to 12 digits; strip a leading `'`, spaces and dashes.

    An id in scientific notation has lost digits: it is rejected, never guessed. A short id is usually
    a spreadsheet that dropped leading zeros, but may be a dropped digit: with `pad=False` it is refused.
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
    if len(digits) > ACCOUNT_ID_DIGITS:
        raise InvalidAccountId(f"account id {raw!r} has more than 12 digits")
    if len(digits) < ACCOUNT_ID_DIGITS and not pad:
        raise InvalidAccountId(
            f"account id {raw!r} has {len(digits)} digits, not 12, and padding is off (ACCOUNT_ID_PADDING=refuse)"
        )
    return digits.zfill(ACCOUNT_ID_DIGITS)


def is_short_id(text: str) -> bool:
    """Whether an id as written has fewer than 12 digits (and so is padded when read)."""
    digits = _SEPARATORS.sub("", text.strip().lstrip("'").strip()).removesuffix(".0")
    return digits.isascii() and digits.isdigit() and len(digits) < ACCOUNT_ID_DIGITS


def account_set(values: Iterable[str] | None) -> frozenset[str] | None:
    """A known-accounts list read as the files' ids are read (12 digits, dashes dropped); empty means any."""
    if not values:
        return None
    return frozenset(normalise_account_id(value) for value in values)
