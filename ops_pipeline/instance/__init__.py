"""Extensions of the Dagster instance, named in `dagster.yaml` (not part of the code location): event log
storages that mask every event before it is stored, for SQLite and PostgreSQL."""
