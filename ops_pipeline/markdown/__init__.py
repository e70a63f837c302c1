"""Markdown for people: the one table helper behind every table the Dagster UI and the CLI show, and the
renderers that both of them use. The UI renders markdown metadata; the CLI prints the same text."""

from ops_pipeline.markdown.table import cell, table

__all__ = ["cell", "table"]
