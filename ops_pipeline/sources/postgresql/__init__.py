"""PostgreSQL: `PostgresDatabase`, the one object that speaks its dialect."""

from ops_pipeline.sources.postgresql.database import PostgresDatabase

__all__ = ["PostgresDatabase"]
