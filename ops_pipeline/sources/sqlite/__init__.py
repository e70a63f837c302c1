"""SQLite: `SQLiteDatabase`, the one object that speaks its dialect."""

from ops_pipeline.sources.sqlite.database import SQLiteDatabase

__all__ = ["SQLiteDatabase"]
