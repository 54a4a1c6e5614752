"""Output a person reads: aligned columns, and a report's outcome in words."""

from collections.abc import Sequence

from credits_pipeline.domain.report import MonthReport, RunReport


def aligned(headers: Sequence[str], rows: Sequence[Sequence[str]], *, right: Sequence[str] = ()) -> str:
    """A plain text table: columns padded to their widest cell, `right` columns right-aligned (amounts)."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        padded = (
            str(cell).rjust(width) if header in right else str(cell).ljust(width)
            for header, cell, width in zip(headers, cells, widths, strict=True)
        )
        return "  ".join(padded).rstrip()

    return "\n".join([line(headers), *(line(row) for row in rows)])


def outcome(report: RunReport) -> str:
    """What happened to the file: a duplicate upload does not hide that it was pushed or failed."""
    if report.status != "duplicate" or not report.months:
        return report.status
    return report.model_copy(deep=True).settle()


def month_state(state: MonthReport) -> str:
    """A month in one word: `verified` (pushed and read back as sent), else its status."""
    if state.status == "pushed" and state.verified:
        return "verified"
    return state.status
