"""Decimal money in pydantic models, written to JSON as a plain decimal string."""

from decimal import Decimal
from typing import Annotated

from pydantic import PlainSerializer

from credits_pipeline.money import format_money

Money = Annotated[Decimal, PlainSerializer(format_money, return_type=str, when_used="json")]
