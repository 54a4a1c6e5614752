"""Column mappings supplied as configuration: a new file shape without a code change.

`ParseConfig.column_mappings` is a tuple of JSON objects (the splitter loads them from S3 or a
parameter), for example::

    {"id": "acme-sheet/1",
     "columns": {"account": "Acct No", "month": "Period", "amount": "Credit USD",
                 "description": "Program", "service": "Svc"},
     "sign": "magnitude",
     "row_type": {"column": "Type", "credit_values": ["Credit"]}}

- `columns.account` and `columns.amount` are required; without `columns.month` the month comes
  from the object key, like the headerless file. `description`, `service`, `currency` are optional.
- `sign` is required: `magnitude` (every amount is a credit) or `signed` (credits negative).
- `row_type` (optional): only rows whose column holds one of `credit_values` count; others are
  counted and ignored.
- `duplicates` (optional): `sum` (default) or `collapse` (identical rows skipped, conflicting
  amounts reject the file). `currency` (optional): the currency of every row, e.g. `USD`.
  `decimal_comma` (optional): force the decimal mark instead of detecting it.

A mapping matches a file whose header has every column it names; a matching mapping wins over
the built-in formats. A bad mapping raises `InvalidColumnMapping` naming the mapping and field.
"""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from credits_pipeline.formats.tabular import Column, TabularSpec
from credits_pipeline.formats.values import header_key

MAPPING_PRIORITY = 100


class InvalidColumnMapping(ValueError):
    """A configured column mapping that cannot be used; the message says which and why."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class MappedColumns(_Strict):
    account: str = Field(min_length=1)
    amount: str = Field(min_length=1)
    month: str | None = Field(default=None, min_length=1)
    description: str | None = Field(default=None, min_length=1)
    service: str | None = Field(default=None, min_length=1)
    currency: str | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _distinct(self) -> "MappedColumns":
        used: dict[str, str] = {}
        for role in ("account", "month", "amount"):
            name = getattr(self, role)
            if name is None:
                continue
            key = header_key(name)
            if not key:
                raise ValueError(f"{role}: {name!r} has no letters or digits to match a header by")
            if key in used:
                raise ValueError(f"{role} and {used[key]} name the same column {name!r}")
            used[key] = role
        return self


class RowTypeRule(_Strict):
    column: str = Field(min_length=1)
    credit_values: list[str] = Field(min_length=1)

    @field_validator("credit_values")
    @classmethod
    def _not_blank(cls, values: list[str]) -> list[str]:
        if any(not value.strip() for value in values):
            raise ValueError("credit values must not be blank")
        return values


class ColumnMapping(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$", max_length=80)
    title: str = ""
    columns: MappedColumns
    sign: Literal["magnitude", "signed"]
    row_type: RowTypeRule | None = None
    duplicates: Literal["sum", "collapse"] = "sum"
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    decimal_comma: bool | None = None

    def spec(self) -> TabularSpec:
        # A header with the account or amount column's name twice: told apart by their values, or rejected.
        columns = [
            Column("account", (self.columns.account,), required=True, one_only=True),
            Column("amount", (self.columns.amount,), required=True, one_only=True),
        ]
        for role in ("month", "description", "service", "currency"):
            name = getattr(self.columns, role)
            if name is not None:
                columns.append(Column(role, (name,), required=True))
        credit_types: frozenset[str] = frozenset()
        if self.row_type is not None:
            columns.append(Column("row_type", (self.row_type.column,), required=True))
            credit_types = frozenset(value.strip().casefold() for value in self.row_type.credit_values)
        return TabularSpec(
            format_id=self.id,
            title=self.title or f"configured column mapping {self.id}",
            columns=tuple(columns),
            sign=self.sign,
            priority=MAPPING_PRIORITY,
            duplicate_policy=self.duplicates,
            credit_types=credit_types,
            header_search=True,
            hand_made=self.sign == "magnitude",
            month_from_name=self.columns.month is None,
            decimal_comma=self.decimal_comma,
            fixed_currency=self.currency or "",
            amount_note=f"configured mapping {self.id}, sign {self.sign}",
        )


def load_mappings(
    raw: tuple[dict[str, object], ...] | list[dict[str, object]], reserved: frozenset[str]
) -> list[TabularSpec]:
    """Validate configured mappings; `reserved` are the built-in format ids they must not reuse."""
    specs: list[TabularSpec] = []
    seen: set[str] = set()
    for number, item in enumerate(raw, start=1):
        label = f"column mapping #{number}"
        if isinstance(item, dict) and isinstance(item.get("id"), str):
            label += f" ({item['id']})"
        try:
            mapping = ColumnMapping.model_validate(item)
        except ValidationError as error:
            details = "; ".join(
                f"{'.'.join(str(part) for part in problem['loc']) or 'mapping'}: {problem['msg']}"
                for problem in error.errors()
            )
            raise InvalidColumnMapping(f"{label} is invalid: {details}") from None
        if mapping.id in reserved:
            raise InvalidColumnMapping(f"{label}: id {mapping.id} is a built-in format's id")
        if mapping.id in seen:
            raise InvalidColumnMapping(f"{label}: id {mapping.id} is used by two mappings")
        seen.add(mapping.id)
        specs.append(mapping.spec())
    return specs
