"""Amounts written the way spreadsheets write them, for the property-based tests."""


def group_thousands(digits: str) -> str:
    """`1234567` -> `1,234,567`."""
    groups: list[str] = []
    while len(digits) > 3:
        groups.insert(0, digits[-3:])
        digits = digits[:-3]
    groups.insert(0, digits)
    return ",".join(groups)
