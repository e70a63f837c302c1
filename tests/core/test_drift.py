from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ops_pipeline.core.catalog import Catalog, Column, ForeignKey, Index, Table, UniqueConstraint
from ops_pipeline.core.drift import (
    BREAKING,
    CHANGE_KINDS,
    COMPATIBLE,
    INITIAL_VERSION,
    CatalogVersion,
    SchemaChange,
    diff_catalogs,
    drift_summary,
    next_version,
)
from tests.core.test_drift_depth import DEPTH_KINDS

# ------------------------------------------------------------------------------------------------ helpers


def orders_table(**overrides: object) -> Table:
    base = Table(
        schema="public",
        name="orders",
        columns=(
            Column("id", "integer", nullable=False),
            Column("customer_id", "integer", nullable=False),
            Column("total", "numeric(10,2)", nullable=True),
            Column("status", "varchar(20)", nullable=False, default="'pending'"),
        ),
        primary_key=("id",),
        foreign_keys=(ForeignKey("orders_customer_fk", ("customer_id",), "public", "customers", ("id",)),),
        unique_constraints=(UniqueConstraint("orders_ref_uq", ("customer_id", "status")),),
        indexes=(Index("ix_orders_customer", ("customer_id",)),),
        row_count=100,
    )
    return dataclasses.replace(base, **overrides)  # type: ignore[arg-type]


def customers_table() -> Table:
    return Table(
        schema="public",
        name="customers",
        columns=(Column("id", "integer", nullable=False), Column("email", "text", nullable=False)),
        primary_key=("id",),
    )


def catalog(*tables: Table) -> Catalog:
    return Catalog(source="shop", source_type="postgres", tables=tables)


def with_column(table: Table, name: str, **changes: object) -> Table:
    columns = tuple(dataclasses.replace(c, **changes) if c.name == name else c for c in table.columns)  # type: ignore[arg-type]
    return dataclasses.replace(table, columns=columns)


def single_change(before: Table, after: Table) -> SchemaChange:
    changes = diff_catalogs(catalog(customers_table(), before), catalog(customers_table(), after))
    assert len(changes) == 1, changes
    return changes[0]


# ------------------------------------------------------------------------------------------------ basics


def test_first_scan_has_no_changes() -> None:
    assert diff_catalogs(None, catalog(orders_table())) == []


def test_identical_catalogs_have_no_changes() -> None:
    assert diff_catalogs(catalog(orders_table()), catalog(orders_table())) == []


def test_row_count_and_comments_are_not_schema_changes() -> None:
    after = orders_table(row_count=999_999, row_count_exact=True, comment="hi", entity_name="Order")
    after = with_column(after, "total", comment="money")
    assert diff_catalogs(catalog(orders_table()), catalog(after)) == []


def test_type_spelling_differences_are_not_changes() -> None:
    after = with_column(orders_table(), "status", data_type="Character Varying ( 20 )")
    after = with_column(after, "id", data_type="INT4")
    assert diff_catalogs(catalog(orders_table()), catalog(after)) == []


# ------------------------------------------------------------------------------------------------ kinds


def test_table_added_is_compatible() -> None:
    changes = diff_catalogs(catalog(customers_table()), catalog(customers_table(), orders_table()))
    assert [(c.kind, c.object_name, c.classification) for c in changes] == [
        ("table_added", "public.orders", COMPATIBLE)
    ]


def test_table_removed_is_breaking() -> None:
    changes = diff_catalogs(catalog(customers_table(), orders_table()), catalog(customers_table()))
    assert [(c.kind, c.object_name, c.classification) for c in changes] == [
        ("table_removed", "public.orders", BREAKING)
    ]


@pytest.mark.parametrize(
    ("column", "classification"),
    [
        (Column("note", "text", nullable=True), COMPATIBLE),
        (Column("flag", "boolean", nullable=False, default="false"), COMPATIBLE),
        (Column("required", "integer", nullable=False), BREAKING),
        (Column("required", "integer", nullable=False, default="NULL"), BREAKING),
    ],
)
def test_column_added(column: Column, classification: str) -> None:
    before = orders_table()
    after = dataclasses.replace(before, columns=(*before.columns, column))
    change = single_change(before, after)
    assert change.kind == "column_added"
    assert change.object_name == f"public.orders.{column.name}"
    assert change.before is None and change.after == column.data_type
    assert change.classification == classification


def test_column_removed_is_breaking() -> None:
    before = orders_table()
    after = dataclasses.replace(before, columns=before.columns[:-1])
    change = single_change(before, after)
    assert (change.kind, change.object_name, change.classification) == (
        "column_removed",
        "public.orders.status",
        BREAKING,
    )
    assert change.before == "varchar(20)" and change.after is None


def test_column_type_widening_is_compatible() -> None:
    change = single_change(orders_table(), with_column(orders_table(), "total", data_type="numeric(12,2)"))
    assert change.kind == "column_type_changed"
    assert change.classification == COMPATIBLE
    assert (change.before, change.after) == ("numeric(10,2)", "numeric(12,2)")
    assert change.description == "column public.orders.total type changed numeric(10,2) -> numeric(12,2) (widening)"


def test_column_type_narrowing_is_breaking() -> None:
    change = single_change(orders_table(), with_column(orders_table(), "status", data_type="varchar(10)"))
    assert change.kind == "column_type_changed"
    assert change.classification == BREAKING


def test_nullability_relaxed_is_compatible() -> None:
    change = single_change(orders_table(), with_column(orders_table(), "customer_id", nullable=True))
    assert (change.kind, change.classification) == ("column_nullability_changed", COMPATIBLE)
    assert (change.before, change.after) == ("not null", "nullable")


def test_nullability_tightened_is_breaking() -> None:
    change = single_change(orders_table(), with_column(orders_table(), "total", nullable=False))
    assert (change.kind, change.classification) == ("column_nullability_changed", BREAKING)
    assert (change.before, change.after) == ("nullable", "not null")


@pytest.mark.parametrize(("before", "after"), [("'pending'", "'new'"), ("'pending'", None), (None, "0")])
def test_default_change_is_compatible(before: str | None, after: str | None) -> None:
    start = with_column(orders_table(), "total", default=before)
    end = with_column(orders_table(), "total", default=after)
    change = single_change(start, end)
    assert (change.kind, change.classification) == ("column_default_changed", COMPATIBLE)
    assert (change.before, change.after) == (before, after)


def test_primary_key_change_is_breaking() -> None:
    change = single_change(orders_table(), orders_table(primary_key=("id", "customer_id")))
    assert (change.kind, change.object_name, change.classification) == (
        "primary_key_changed",
        "public.orders",
        BREAKING,
    )
    assert (change.before, change.after) == ("(id)", "(id, customer_id)")


def test_primary_key_dropped_is_breaking() -> None:
    change = single_change(orders_table(), orders_table(primary_key=()))
    assert (change.kind, change.before, change.after, change.classification) == (
        "primary_key_changed",
        "(id)",
        None,
        BREAKING,
    )


def test_foreign_key_added_is_breaking_and_removed_compatible() -> None:
    without = orders_table(foreign_keys=())
    added = single_change(without, orders_table())
    assert (added.kind, added.classification) == ("foreign_key_added", BREAKING)
    assert added.after == "(customer_id) -> public.customers(id)"
    removed = single_change(orders_table(), without)
    assert (removed.kind, removed.classification) == ("foreign_key_removed", COMPATIBLE)
    assert removed.before == "(customer_id) -> public.customers(id)"


def test_foreign_key_retargeted_is_remove_plus_add() -> None:
    fk = ForeignKey("orders_customer_fk", ("customer_id",), "crm", "customers", ("id",))
    changes = diff_catalogs(catalog(orders_table()), catalog(orders_table(foreign_keys=(fk,))))
    assert sorted(c.kind for c in changes) == ["foreign_key_added", "foreign_key_removed"]


def test_unique_added_and_removed_are_breaking() -> None:
    without = orders_table(unique_constraints=())
    added = single_change(without, orders_table())
    removed = single_change(orders_table(), without)
    assert (added.kind, added.classification, added.after) == ("unique_added", BREAKING, "(customer_id, status)")
    assert (removed.kind, removed.classification) == ("unique_removed", BREAKING)


@pytest.mark.parametrize(("unique", "grade"), [(False, COMPATIBLE), (True, BREAKING)])
def test_index_added_and_removed_are_compatible_unless_unique(unique: bool, grade: str) -> None:
    without = orders_table(indexes=())
    with_ix = orders_table(indexes=(Index("ix_total", ("total", "id"), unique=unique),))
    added = single_change(without, with_ix)
    removed = single_change(with_ix, without)
    assert (added.kind, added.classification) == ("index_added", grade)
    assert (removed.kind, removed.classification) == ("index_removed", grade)


def test_index_column_order_matters() -> None:
    before = orders_table(indexes=(Index("ix", ("a", "b")),))
    after = orders_table(indexes=(Index("ix", ("b", "a")),))
    assert sorted(c.kind for c in diff_catalogs(catalog(before), catalog(after))) == [
        "index_added",
        "index_removed",
    ]


def test_table_kind_change_is_breaking() -> None:
    change = single_change(orders_table(), orders_table(kind="view"))
    assert (change.kind, change.before, change.after, change.classification) == (
        "table_kind_changed",
        "table",
        "view",
        BREAKING,
    )


def test_every_kind_is_covered_by_the_tests_above() -> None:
    # guards the constant list against typos/additions without tests (the depth kinds: test_drift_depth.py)
    assert set(CHANGE_KINDS) - DEPTH_KINDS == {
        "table_added",
        "table_removed",
        "column_added",
        "column_removed",
        "column_type_changed",
        "column_nullability_changed",
        "column_default_changed",
        "primary_key_changed",
        "foreign_key_added",
        "foreign_key_removed",
        "unique_added",
        "unique_removed",
        "index_added",
        "index_removed",
        "table_kind_changed",
    }


# ------------------------------------------------------------------------------------------------ renames


def test_constraint_and_index_renames_are_ignored() -> None:
    after = orders_table(
        foreign_keys=(ForeignKey("fk_renamed", ("customer_id",), "public", "customers", ("id",)),),
        unique_constraints=(UniqueConstraint("uq_renamed", ("status", "customer_id")),),
        indexes=(Index("ix_renamed", ("customer_id",)),),
    )
    assert diff_catalogs(catalog(orders_table()), catalog(after)) == []


def test_duplicate_constraints_are_counted() -> None:
    ix = Index("ix_a", ("customer_id",))
    twice = orders_table(indexes=(ix, dataclasses.replace(ix, name="ix_b")))
    changes = diff_catalogs(catalog(twice), catalog(orders_table()))
    assert [(c.kind, c.before) for c in changes] == [("index_removed", "(customer_id)")]


# ------------------------------------------------------------------------------------------------ ordering


def test_output_is_ordered_by_object_then_kind_and_deterministic() -> None:
    before = orders_table()
    after = orders_table(
        columns=(
            Column("id", "bigint", nullable=False),
            Column("customer_id", "integer", nullable=True),
            Column("total", "numeric(8,2)", nullable=False),
            Column("zz_new", "text"),
            Column("aa_new", "text"),
        ),
        primary_key=("id", "customer_id"),
        indexes=(),
    )
    extra = Table(schema="audit", name="log", columns=(Column("id", "integer"),))
    changes = diff_catalogs(catalog(customers_table(), before), catalog(extra, after, customers_table()))
    keys = [(c.object_name, c.kind) for c in changes]
    assert keys == sorted(keys)
    assert keys[0] == ("audit.log", "table_added")
    again = diff_catalogs(catalog(before, customers_table()), catalog(customers_table(), after, extra))
    assert again == changes
    assert ("public.orders.status", "column_removed") in keys


# ------------------------------------------------------------------------------------------------ versions


def _change(classification: str) -> SchemaChange:
    return SchemaChange("x", "public.t", None, None, classification, "x")  # type: ignore[arg-type]


def test_version_arithmetic() -> None:
    assert CatalogVersion(0, 1) == INITIAL_VERSION
    assert str(INITIAL_VERSION) == "0.1"
    assert next_version(None, []) == CatalogVersion(0, 1)
    assert next_version(None, [_change(BREAKING)]) == CatalogVersion(0, 1)
    v = CatalogVersion(0, 1)
    assert next_version(v, []) == v
    v = next_version(v, [_change(COMPATIBLE)])
    assert str(v) == "0.2"
    v = next_version(v, [_change(COMPATIBLE), _change(BREAKING)])
    assert str(v) == "1.2"
    v = next_version(v, [_change(COMPATIBLE), _change(COMPATIBLE)])
    assert str(v) == "1.3"
    assert str(next_version(v, [_change(BREAKING)])) == "2.3"


def test_version_parse_and_order() -> None:
    assert CatalogVersion.parse("1.2") == CatalogVersion(1, 2)
    assert CatalogVersion.parse(" 10.0 ") == CatalogVersion(10, 0)
    assert CatalogVersion.parse(str(CatalogVersion(3, 14))) == CatalogVersion(3, 14)
    assert CatalogVersion(1, 2) > CatalogVersion(0, 9) > CatalogVersion(0, 2)
    assert sorted([CatalogVersion(1, 0), CatalogVersion(0, 10), CatalogVersion(0, 2)]) == [
        CatalogVersion(0, 2),
        CatalogVersion(0, 10),
        CatalogVersion(1, 0),
    ]
    for bad in ("1", "1.2.3", "a.b", "-1.2", ""):
        with pytest.raises(ValueError):
            CatalogVersion.parse(bad)


def test_version_follows_diff() -> None:
    v1 = next_version(None, diff_catalogs(None, catalog(orders_table())))
    changes = diff_catalogs(catalog(orders_table()), catalog(orders_table(), customers_table()))
    v2 = next_version(v1, changes)
    changes = diff_catalogs(catalog(orders_table(), customers_table()), catalog(orders_table()))
    v3 = next_version(v2, changes)
    assert [str(v1), str(v2), str(v3)] == ["0.1", "0.2", "1.2"]


# ------------------------------------------------------------------------------------------------ reporting


def test_drift_summary() -> None:
    changes = [_change(BREAKING), _change(COMPATIBLE), _change(COMPATIBLE)]
    changes.append(dataclasses.replace(changes[0], kind="table_removed"))
    assert drift_summary(changes) == {
        "total": 4,
        "compatible": 2,
        "breaking": 2,
        "by_kind": {"table_removed": 1, "x": 3},
    }
    assert drift_summary([]) == {"total": 0, "compatible": 0, "breaking": 0, "by_kind": {}}


# ------------------------------------------------------------------------------------------------ properties

_names = st.text(alphabet="abcdefgh_", min_size=1, max_size=6)
_types = st.sampled_from(["integer", "bigint", "text", "varchar(20)", "numeric(10,2)", "boolean", "timestamp", "date"])
_columns = st.lists(
    st.builds(Column, name=_names, data_type=_types, nullable=st.booleans(), default=st.none() | st.just("0")),
    max_size=5,
    unique_by=lambda c: c.name,
)


@st.composite
def _tables(draw: st.DrawFn) -> Table:
    columns = draw(_columns)
    names = [c.name for c in columns]

    def subset(min_size: int = 0) -> tuple[str, ...]:
        if len(names) < min_size:
            return ()
        picked = draw(st.permutations(names))
        return tuple(picked[: draw(st.integers(min_size, min(2, len(names))))])

    def some() -> list[tuple[str, ...]]:
        return [cols for cols in (subset(1) for _ in range(draw(st.integers(0, 2)))) if cols]

    return Table(
        schema=draw(st.sampled_from(["public", "sales", ""])),
        name=draw(_names),
        kind=draw(st.sampled_from(["table", "view"])),
        columns=tuple(columns),
        primary_key=subset(),
        foreign_keys=tuple(ForeignKey(f"fk{i}", cols, "public", "other", cols) for i, cols in enumerate(some())),
        unique_constraints=tuple(UniqueConstraint(f"uq{i}", cols) for i, cols in enumerate(some())),
        indexes=tuple(Index(f"ix{i}", cols, unique=draw(st.booleans())) for i, cols in enumerate(some())),
        row_count=draw(st.none() | st.integers(0, 10_000)),
    )


_catalogs = st.lists(_tables(), max_size=5, unique_by=lambda t: t.qualified_name).map(
    lambda tables: Catalog(source="s", source_type="postgres", tables=tuple(tables))
)


@settings(max_examples=150, deadline=None)
@given(_catalogs)
def test_diff_with_itself_is_empty(cat: Catalog) -> None:
    assert diff_catalogs(cat, cat) == []
    assert next_version(CatalogVersion(1, 4), diff_catalogs(cat, cat)) == CatalogVersion(1, 4)


@settings(max_examples=150, deadline=None)
@given(_catalogs, _catalogs)
def test_diff_is_symmetric_for_tables(a: Catalog, b: Catalog) -> None:
    forward = diff_catalogs(a, b)
    backward = diff_catalogs(b, a)
    # A table gone and one appeared with the same shape is a rename, said once from either side.
    added = {c.object_name for c in forward if c.kind in ("table_added", "table_renamed")}
    removed = {c.object_name for c in backward if c.kind == "table_removed"}
    removed |= {c.before for c in backward if c.kind == "table_renamed" and c.before}
    assert added == removed
    assert added == {t.qualified_name for t in b.tables} - {t.qualified_name for t in a.tables}
    assert forward == sorted(forward, key=lambda c: (c.object_name, c.kind, c.before or "", c.after or ""))
    assert all(c.kind in CHANGE_KINDS for c in forward)
    assert len(forward) == len(backward)
