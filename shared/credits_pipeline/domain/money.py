"""Money as `decimal.Decimal`, written as a plain decimal string (in JSON too), never a float.

Reading amounts from files has one home: `formats.values.AmountReader`.
"""

from decimal import Decimal
from typing import Annotated

from pydantic import PlainSerializer


class InvalidAmount(ValueError):
    """An amount that cannot be read as money."""


def format_money(value: Decimal) -> str:
    """A plain decimal string, never scientific notation and never `-0`."""
    if value == 0:
        return "0" if value.as_tuple().exponent == 0 else format(abs(value), "f")
    return format(value, "f")


Money = Annotated[Decimal, PlainSerializer(format_money, return_type=str, when_used="json")]
