"""Drift in what the catalog records beyond columns and keys, and rename detection."""

from __future__ import annotations

import dataclasses

from ops_pipeline.core.catalog import (
    Catalog,
    CheckConstraint,
    Column,
    Exclusion,
    ForeignKey,
    Index,
    Partition,
    Table,
    UniqueConstraint,
    UserType,
    definition_json,
)
from ops_pipeline.core.drift import BREAKING, COMPATIBLE, SchemaChange, diff_catalogs, drift_summary

DEPTH_KINDS = {
    "table_renamed",
    "column_renamed",
    "column_identity_changed",
    "column_collation_changed",
    "column_on_update_changed",
    "foreign_key_action_changed",
    "check_added",
    "check_removed",
    "exclusion_added",
    "exclusion_removed",
    "view_definition_changed",
    "partition_key_changed",
    "partition_added",
    "partition_removed",
    "partition_bound_changed",
    "type_added",
    "type_removed",
    "enum_value_added",
    "enum_value_removed",
    "enum_values_reordered",
    "domain_changed",
}


def customers() -> Table:
    return Table(
        schema="public",
        name="customers",
        columns=(Column("id", "integer", False, identity="always"), Column("email", "text", False)),
        primary_key=("id",),
        unique_constraints=(UniqueConstraint("customers_email_key", ("email",)),),
    )


def orders(**overrides: object) -> Table:
    base = Table(
        schema="public",
        name="orders",
        columns=(
            Column("id", "integer", False, identity="by default"),
            Column("customer_id", "integer", False),
            Column("total", "numeric(10,2)", True),
            Column("note", "text", True, collation=None),
        ),
        primary_key=("id",),
        foreign_keys=(ForeignKey("orders_customer_fk", ("customer_id",), "public", "customers", ("id",)),),
        checks=(CheckConstraint("orders_total_check", "CHECK (total >= 0::numeric)"),),
        indexes=(Index("ix_orders_customer", ("customer_id",), method="btree"),),
    )
    return dataclasses.replace(base, **overrides)  # type: ignore[arg-type]


def diff(
    old: list[Table],
    new: list[Table],
    before: tuple[UserType, ...] | None = None,
    after: tuple[UserType, ...] | None = None,
) -> list[SchemaChange]:
    return diff_catalogs(
        Catalog("shop", "postgresql", tables=tuple(old), types=before),
        Catalog("shop", "postgresql", tables=tuple(new), types=after),
    )


def kinds(changes: list[SchemaChange]) -> list[tuple[str, str]]:
    return [(c.kind, c.classification) for c in changes]


def column(table: Table, column_name: str, **changes: object) -> Table:
    columns = tuple(dataclasses.replace(c, **changes) if c.name == column_name else c for c in table.columns)  # type: ignore[arg-type]
    return dataclasses.replace(table, columns=columns)


# ------------------------------------------------------------------------------------------------ renames


def test_a_renamed_table_is_one_breaking_change_and_its_foreign_keys_are_repointed() -> None:
    clients = dataclasses.replace(customers(), name="clients")
    repointed = orders(foreign_keys=(ForeignKey("orders_customer_fk", ("customer_id",), "public", "clients", ("id",)),))

    changes = diff([customers(), orders()], [clients, repointed])

    assert kinds(changes) == [("table_renamed", BREAKING)]
    assert (changes[0].before, changes[0].after) == ("public.customers", "public.clients")
    assert drift_summary(changes)["breaking"] == 1


def test_a_table_gone_with_two_lookalikes_appearing_is_not_a_rename() -> None:
    twin_a = dataclasses.replace(customers(), name="clients")
    twin_b = dataclasses.replace(customers(), name="buyers")

    changes = diff([customers()], [twin_a, twin_b])

    assert sorted(c.kind for c in changes) == ["table_added", "table_added", "table_removed"]


def test_a_table_gone_and_a_different_one_appearing_is_not_a_rename() -> None:
    other = dataclasses.replace(customers(), name="clients", primary_key=())
    assert sorted(c.kind for c in diff([customers()], [other])) == ["table_added", "table_removed"]


def test_a_renamed_column_is_one_breaking_change_and_keys_follow_it() -> None:
    after = column(orders(), "customer_id", name="client_id")
    after = dataclasses.replace(
        after,
        foreign_keys=(ForeignKey("orders_customer_fk", ("client_id",), "public", "customers", ("id",)),),
        indexes=(Index("ix_orders_customer", ("client_id",), method="btree"),),
    )

    changes = diff([orders()], [after])

    assert kinds(changes) == [("column_renamed", BREAKING)]
    assert (changes[0].object_name, changes[0].before, changes[0].after) == (
        "public.orders.client_id",
        "customer_id",
        "client_id",
    )


def test_a_column_replaced_by_one_of_another_type_is_not_a_rename() -> None:
    after = column(orders(), "total", name="amount", data_type="bigint")
    assert sorted(c.kind for c in diff([orders()], [after])) == ["column_added", "column_removed"]


# ------------------------------------------------------------------------------------------------ details


def test_foreign_key_action_change_is_breaking() -> None:
    cascading = orders(
        foreign_keys=(
            ForeignKey("orders_customer_fk", ("customer_id",), "public", "customers", ("id",), on_delete="CASCADE"),
        )
    )
    changes = diff([orders()], [cascading])
    assert kinds(changes) == [("foreign_key_action_changed", BREAKING)]
    assert changes[0].after == "ON DELETE CASCADE ON UPDATE NO ACTION"


def test_check_added_is_breaking_and_removed_compatible_and_renaming_one_is_nothing() -> None:
    extra = CheckConstraint("orders_id_check", "CHECK (id > 0)")
    assert kinds(diff([orders()], [orders(checks=(*orders().checks, extra))])) == [("check_added", BREAKING)]
    assert kinds(diff([orders()], [orders(checks=())])) == [("check_removed", COMPATIBLE)]
    renamed = (CheckConstraint("total_not_negative", "CHECK (total >= 0::numeric)"),)
    assert diff([orders()], [orders(checks=renamed)]) == []


def test_exclusion_added_is_breaking() -> None:
    exclusion = Exclusion("no_overlap", "EXCLUDE USING gist (customer_id WITH =)")
    assert kinds(diff([orders()], [orders(exclusions=(exclusion,))])) == [("exclusion_added", BREAKING)]
    assert kinds(diff([orders(exclusions=(exclusion,))], [orders()])) == [("exclusion_removed", COMPATIBLE)]


def test_identity_grades() -> None:
    assert kinds(diff([orders()], [column(orders(), "id", identity=None)])) == [("column_identity_changed", BREAKING)]
    assert kinds(diff([orders()], [column(orders(), "id", identity="always")])) == [
        ("column_identity_changed", BREAKING)
    ]
    gained = column(orders(), "total", identity="serial")
    assert kinds(diff([orders()], [gained])) == [("column_identity_changed", COMPATIBLE)]


def test_collation_and_on_update_changes() -> None:
    assert kinds(diff([orders()], [column(orders(), "note", collation="C")])) == [
        ("column_collation_changed", BREAKING)
    ]
    stamped = column(orders(), "note", on_update="current_timestamp()")
    assert kinds(diff([orders()], [stamped])) == [("column_on_update_changed", COMPATIBLE)]
    assert kinds(diff([stamped], [orders()])) == [("column_on_update_changed", BREAKING)]


def test_index_method_and_predicate_are_part_of_an_index() -> None:
    gin = orders(indexes=(Index("ix_orders_customer", ("customer_id",), method="gin"),))
    assert sorted(kinds(diff([orders()], [gin]))) == [("index_added", COMPATIBLE), ("index_removed", COMPATIBLE)]
    partial = orders(indexes=(Index("ix_orders_customer", ("customer_id",), True, "btree", "(total > 0)"),))
    changes = diff([orders(indexes=())], [partial])
    assert kinds(changes) == [("index_added", BREAKING)]
    assert "where (total > 0)" in changes[0].description


def view(definition: str, columns: tuple[Column, ...]) -> Table:
    return Table("public", "big_orders", "view", columns=columns, view_definition=definition)


def test_view_definition_change_is_compatible_unless_its_columns_change() -> None:
    columns = (Column("id", "integer"), Column("total", "numeric(10,2)"))
    before = view(" SELECT id, total FROM orders WHERE total > 100;", columns)
    refiltered = view(" SELECT id, total FROM orders WHERE total > 500;", columns)
    assert kinds(diff([before], [refiltered])) == [("view_definition_changed", COMPATIBLE)]
    narrowed = view(" SELECT id FROM orders WHERE total > 100;", columns[:1])
    assert sorted(kinds(diff([before], [narrowed]))) == [
        ("column_removed", BREAKING),
        ("view_definition_changed", BREAKING),
    ]


def test_partitions_added_removed_and_rebounded() -> None:
    january = Partition("public.payments_2024_01", "FOR VALUES FROM ('2024-01-01') TO ('2024-02-01')")
    february = Partition("public.payments_2024_02", "FOR VALUES FROM ('2024-02-01') TO ('2024-03-01')")
    table = Table("public", "payments", partition_key="RANGE (paid_at)", partitions=(january,))
    grown = dataclasses.replace(table, partitions=(january, february))
    assert kinds(diff([table], [grown])) == [("partition_added", COMPATIBLE)]
    assert kinds(diff([grown], [table])) == [("partition_removed", BREAKING)]
    moved = dataclasses.replace(table, partitions=(dataclasses.replace(january, bound="DEFAULT"),))
    assert kinds(diff([table], [moved])) == [("partition_bound_changed", BREAKING)]
    rekeyed = dataclasses.replace(table, partition_key="LIST (region)")
    assert kinds(diff([table], [rekeyed])) == [("partition_key_changed", BREAKING)]


def test_a_definition_from_before_the_depth_is_not_compared_in_depth() -> None:
    old = orders().definition()
    old["columns"] = [row[:5] for row in old["columns"]]
    old["foreign_keys"] = [row[:5] for row in old["foreign_keys"]]
    old["indexes"] = [row[:3] for row in old["indexes"]]
    for key in ("detail", "checks", "exclusions", "view_definition", "partition_key", "partitions"):
        del old[key]
    restored = Table.from_definition(old)

    assert restored.detail == 1
    assert diff([restored], [orders()]) == []
    assert definition_json(Table.from_definition(orders().definition()).definition()) == definition_json(
        orders().definition()
    )


# ------------------------------------------------------------------------------------------------ types


def mood(*labels: str) -> UserType:
    return UserType("public", "mood", "enum", labels=labels)


def test_enum_value_added_is_compatible_removed_breaking_reordered_compatible() -> None:
    changes = diff([], [], before=(mood("sad", "ok"),), after=(mood("sad", "ok", "happy"),))
    assert kinds(changes) == [("enum_value_added", COMPATIBLE)]
    assert kinds(
        diff(
            [],
            [],
            before=(mood("sad", "ok"),),
            after=(
                mood(
                    "sad",
                ),
            ),
        )
    ) == [("enum_value_removed", BREAKING)]
    assert kinds(diff([], [], before=(mood("sad", "ok"),), after=(mood("ok", "sad"),))) == [
        ("enum_values_reordered", COMPATIBLE)
    ]


def test_types_added_removed_and_domains_changed() -> None:
    year = UserType("public", "year", "domain", base_type="integer")
    checked = dataclasses.replace(year, checks=(CheckConstraint("year_check", "CHECK (VALUE >= 1901)"),))
    assert kinds(diff([], [], before=(), after=(year,))) == [("type_added", COMPATIBLE)]
    assert kinds(diff([], [], before=(year,), after=())) == [("type_removed", BREAKING)]
    assert kinds(diff([], [], before=(year,), after=(checked,))) == [("domain_changed", BREAKING)]
    assert kinds(diff([], [], before=(checked,), after=(year,))) == [("domain_changed", COMPATIBLE)]
    widened = dataclasses.replace(year, base_type="bigint")
    assert kinds(diff([], [], before=(year,), after=(widened,))) == [("domain_changed", COMPATIBLE)]


def test_types_are_not_compared_when_one_scan_did_not_list_them() -> None:
    assert diff([], [], before=None, after=(mood("sad"),)) == []


def test_user_type_round_trips_through_its_definition() -> None:
    year = UserType(
        "public", "year", "domain", base_type="integer", checks=(CheckConstraint("c", "CHECK (VALUE > 0)"),)
    )
    assert UserType.from_definition(year.definition()) == year
