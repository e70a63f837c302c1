"""Two scans recorded at once share table definitions (same shapes in two sources): neither may fail on the
shared definition hashes."""

import threading

import sqlalchemy as sa

from ops_pipeline.core.catalog import Catalog, Column, Table
from ops_pipeline.store import catalog as store
from ops_pipeline.store.engine import open_store
from ops_pipeline.store.tables import catalog_definitions

TABLES = tuple(
    Table(schema="public", name=f"t{i}", columns=(Column("id", "integer", nullable=False), Column(f"c{i}", "text")))
    for i in range(400)
)


def _record(engine: sa.Engine, source: str, start: threading.Barrier, failures: list[BaseException]) -> None:
    try:
        snapshot_id = store.create_snapshot(engine, source, "postgresql")
        store.mark_scanning(engine, snapshot_id)
        start.wait()
        store.complete_snapshot(engine, snapshot_id, Catalog(source, "postgresql", "16", TABLES))
    except BaseException as error:
        failures.append(error)


def test_scans_of_sources_sharing_tables_complete_together(store_url: str) -> None:
    engine = open_store(store_url)
    for attempt in range(3):
        failures: list[BaseException] = []
        sources = [f"src{attempt}_{n}" for n in range(4)]
        start = threading.Barrier(len(sources))
        threads = [threading.Thread(target=_record, args=(engine, s, start, failures)) for s in sources]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert failures == []
        for source in sources:
            latest = store.latest_completed(engine, source)
            assert latest is not None and latest.table_count == len(TABLES)
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(catalog_definitions)).scalar() == len(TABLES)
