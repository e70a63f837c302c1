"""MySQL and MariaDB: `MySQLDatabase`, the one object that speaks their dialect."""

from ops_pipeline.sources.mysql.database import MySQLDatabase

__all__ = ["MySQLDatabase"]
