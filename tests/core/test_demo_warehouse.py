from __future__ import annotations

import contextlib
import importlib.util
import sqlite3
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "examples" / "demo" / "generate_warehouse.py"


@pytest.fixture(scope="module")
def gen() -> ModuleType:
    spec = importlib.util.spec_from_file_location("demo_generate_warehouse", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _tables(conn: sqlite3.Connection) -> list[str]:
    rows = conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name"
    )
    return [r[0] for r in rows]


def _dump(path: Path) -> dict[str, list[tuple[object, ...]]]:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        return {t: conn.execute(f'SELECT * FROM "{t}" ORDER BY rowid').fetchall() for t in _tables(conn)}


def test_generation_is_deterministic(gen: ModuleType, tmp_path: Path) -> None:
    first = gen.generate_warehouse(tmp_path / "a" / "warehouse.db", seed=7)
    second = gen.generate_warehouse(tmp_path / "b" / "warehouse.db", seed=7)
    assert first == tmp_path / "a" / "warehouse.db"
    assert _dump(first) == _dump(second)
    assert first.read_bytes() == second.read_bytes()
    other = gen.generate_warehouse(tmp_path / "c" / "warehouse.db", seed=8)
    assert _dump(other) != _dump(first)


def test_warehouse_shape(gen: ModuleType, tmp_path: Path) -> None:
    path = gen.generate_warehouse(tmp_path / "warehouse.db")
    with contextlib.closing(sqlite3.connect(path)) as conn:
        tables = _tables(conn)
        assert len(tables) >= 12
        assert {"customers", "orders", "order_items", "invoices", "InvoiceLine"} <= set(tables)
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        total = sum(conn.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables)
        assert 2_000 <= total <= 20_000

        stat_tables = {r[0] for r in conn.execute("SELECT tbl FROM sqlite_stat1")}
        assert {"orders", "order_items", "customers"} <= stat_tables

        views = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'view'")]
        assert views == ["order_totals"]
        assert conn.execute("SELECT COUNT(*) FROM order_totals").fetchone()[0] > 0

        fk_tables = [t for t in tables if conn.execute(f'PRAGMA foreign_key_list("{t}")').fetchall()]
        assert len(fk_tables) >= 10
        indexes = {r[1]: r for t in tables for r in conn.execute(f'PRAGMA index_list("{t}")')}
        assert any(row[2] == 1 and row[3] == "c" for row in indexes.values())  # a CREATE UNIQUE INDEX
        assert any(row[3] == "u" for row in indexes.values())  # a UNIQUE constraint
        composite = [
            name
            for name, row in indexes.items()
            if row[3] == "c" and len(conn.execute(f'PRAGMA index_info("{name}")').fetchall()) > 1
        ]
        assert composite

        first, last, days = conn.execute(
            "SELECT MIN(created_at), MAX(created_at), COUNT(DISTINCT date(created_at)) FROM orders"
        ).fetchone()
        assert first.startswith("2024-01") and last.startswith("2024-12")
        assert days > 300


def test_column_variety(gen: ModuleType, tmp_path: Path) -> None:
    path = gen.generate_warehouse(tmp_path / "warehouse.db")
    with contextlib.closing(sqlite3.connect(path)) as conn:
        declared: set[str] = set()
        not_null = defaults = 0
        for table in _tables(conn):
            for _, _, col_type, notnull, default, _ in conn.execute(f'PRAGMA table_info("{table}")'):
                declared.add(col_type.split("(")[0].upper())
                not_null += notnull
                defaults += default is not None
        assert {"INTEGER", "TEXT", "VARCHAR", "NUMERIC", "REAL", "BOOLEAN", "DATE", "TIMESTAMP"} <= declared
        assert not_null > 20 and defaults > 5


def test_no_temp_files_left(gen: ModuleType, tmp_path: Path) -> None:
    gen.generate_warehouse(tmp_path / "warehouse.db")
    assert [p.name for p in tmp_path.iterdir()] == ["warehouse.db"]


def test_existing_file_is_left_untouched(gen: ModuleType, tmp_path: Path) -> None:
    target = tmp_path / "warehouse.db"
    target.write_bytes(b"not a database")
    assert gen.generate_warehouse(target, seed=1) == target
    assert target.read_bytes() == b"not a database"

    assert gen.generate_warehouse(target, seed=1, overwrite=True) == target
    assert len(_dump(target)) >= 12
    assert [p.name for p in tmp_path.iterdir()] == ["warehouse.db"]


def test_failed_generation_leaves_nothing(gen: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(conn: sqlite3.Connection, rng: object) -> None:
        conn.execute("INSERT INTO regions VALUES (1, 'EU', 'Europe')")
        raise RuntimeError("boom")

    monkeypatch.setattr(gen, "_populate", boom)
    with pytest.raises(RuntimeError, match="boom"):
        gen.generate_warehouse(tmp_path / "warehouse.db")
    assert list(tmp_path.iterdir()) == []

    # an existing warehouse survives a failed overwrite
    target = tmp_path / "keep.db"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        gen.generate_warehouse(target, overwrite=True)
    assert [p.name for p in tmp_path.iterdir()] == ["keep.db"]
    assert target.read_bytes() == b"old"


def test_cli(gen: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "cli.db"
    assert gen.main([str(target), "--seed", "3"]) == 0
    assert "15 tables" in capsys.readouterr().out
    before = target.read_bytes()
    assert gen.main([str(target), "--seed", "4"]) == 0
    assert "already exists" in capsys.readouterr().out
    assert target.read_bytes() == before
    assert gen.main([str(target), "--seed", "4", "--force"]) == 0
    assert target.read_bytes() != before
