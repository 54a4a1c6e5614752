"""Money as decimal.Decimal, read from the many ways people and AWS write amounts."""

import re
from decimal import Decimal, InvalidOperation

_CURRENCY_MARKS = re.compile(r"[$€£¥\s\u00a0]|USD|EUR|GBP", re.IGNORECASE)
_ZERO_DASH = re.compile("^[-\u2013\u2014]+$")  # spreadsheet accounting style writes zero as "$ -"


class InvalidAmount(ValueError):
    """An amount that cannot be read as money."""


def parse_amount(text: str, *, decimal_comma: bool = False) -> Decimal:
    """Read an amount such as `$1,234.56`, `"$6,407.96"`, `$ -`, `-$100.00`, `(3.50)`, `-1.2E-5`.

    With `decimal_comma` (files delimited by `;`), `1.234,56` means 1234.56.
    """
    raw = text.strip()
    if not raw:
        raise InvalidAmount("empty amount")
    negative = False
    body = _CURRENCY_MARKS.sub("", raw)  # before the parentheses: accounting style writes `$ (3.50)`
    if body.startswith("(") and body.endswith(")"):
        negative, body = True, body[1:-1]
    body = _CURRENCY_MARKS.sub("", body)
    if body.startswith("-"):
        negative, body = not negative, body[1:]
    elif body.startswith("+"):
        body = body[1:]
    body = _CURRENCY_MARKS.sub("", body)
    if body == "" or _ZERO_DASH.match(body):
        if raw.strip("$ \u00a0()-\u2013\u2014") == "":
            return Decimal(0)
        raise InvalidAmount(f"not an amount: {text!r}")
    body = body.replace(".", "").replace(",", ".") if decimal_comma else body.replace(",", "")
    try:
        value = Decimal(body)
    except InvalidOperation:
        raise InvalidAmount(f"not an amount: {text!r}") from None
    if not value.is_finite():
        raise InvalidAmount(f"not an amount: {text!r}")
    return value.copy_negate() if negative else value  # exact: unary minus rounds to the context


def format_money(value: Decimal) -> str:
    """A plain decimal string, never scientific notation and never `-0`."""
    if value == 0:
        return "0" if value.as_tuple().exponent == 0 else format(abs(value), "f")
    return format(value, "f")
