"""Big tabular credit files (CUR, CUR 2.0, FOCUS; CSV, gzip or Parquet) read as columns by DuckDB.

Imported only when a file is such a table: the splitter's cold start does not load DuckDB.
"""

from credits_pipeline.formats.columnar.tables import read_as_columns

__all__ = ["read_as_columns"]
