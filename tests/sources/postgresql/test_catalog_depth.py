"""The PostgreSQL catalog in depth, on a film-rental-like schema: partitions, enums, domains, checks, exclusions,
foreign-key actions, identity, collation, index methods, partial indexes, views, an unpopulated materialized
view; and the drift a data engineer cares about, recorded through the store."""

from collections.abc import Callable

import pytest
import sqlalchemy as sa

from ops_pipeline.core.catalog import CheckConstraint, Partition, UserType
from ops_pipeline.defs.catalog.scan import scan_source
from ops_pipeline.sources.postgresql import PostgresDatabase
from ops_pipeline.store.engine import open_store
from tests.conftest import pg_url
from tests.sources.postgresql.test_database import source

RENTAL_SCHEMA = """
CREATE TYPE mpaa_rating AS ENUM ('G', 'PG', 'PG-13', 'R', 'NC-17');
CREATE DOMAIN year AS integer CONSTRAINT year_check CHECK (VALUE >= 1901 AND VALUE <= 2155);
CREATE TABLE customer (
    customer_id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email text COLLATE "C",
    active boolean NOT NULL DEFAULT true
);
CREATE TABLE film (
    film_id serial PRIMARY KEY,
    title text NOT NULL,
    release_year year,
    rating mpaa_rating DEFAULT 'G',
    fulltext tsvector,
    rental_rate numeric(4,2) NOT NULL DEFAULT 4.99 CONSTRAINT film_rate_check CHECK (rental_rate >= 0)
);
CREATE INDEX film_fulltext_idx ON film USING gist (fulltext);
CREATE INDEX film_title_family ON film (title) WHERE rating <> 'NC-17';
CREATE TABLE rental (
    rental_id serial PRIMARY KEY,
    customer_id integer NOT NULL REFERENCES customer ON DELETE RESTRICT ON UPDATE CASCADE,
    during tsrange,
    CONSTRAINT rental_no_overlap EXCLUDE USING gist (during WITH &&)
);
CREATE TABLE payment (
    payment_id serial,
    customer_id integer NOT NULL REFERENCES customer ON DELETE CASCADE,
    amount numeric(5,2) NOT NULL,
    payment_date timestamptz NOT NULL,
    PRIMARY KEY (payment_date, payment_id)
) PARTITION BY RANGE (payment_date);
CREATE TABLE payment_p2022_01 PARTITION OF payment FOR VALUES FROM ('2022-01-01') TO ('2022-02-01');
CREATE TABLE payment_p2022_02 PARTITION OF payment FOR VALUES FROM ('2022-02-01') TO ('2022-03-01');
CREATE TABLE payment_refund (
    refund_id integer PRIMARY KEY,
    payment_date timestamptz NOT NULL,
    payment_id integer NOT NULL,
    CONSTRAINT refund_payment_fk FOREIGN KEY (payment_date, payment_id) REFERENCES payment (payment_date, payment_id)
);
CREATE VIEW active_customers AS SELECT customer_id, email FROM customer WHERE active;
CREATE MATERIALIZED VIEW payment_totals AS SELECT customer_id, sum(amount) AS total FROM payment GROUP BY 1
    WITH NO DATA;
INSERT INTO customer (email) VALUES ('a@x.org'), ('b@x.org'), ('c@x.org');
INSERT INTO payment (customer_id, amount, payment_date)
    SELECT 1 + g % 3, 2.99, '2022-01-01'::timestamptz + g * interval '1 day' FROM generate_series(0, 39) g;
ANALYZE;
"""


def run(database: str, statements: str) -> None:
    engine = sa.create_engine(pg_url(database))
    raw = engine.raw_connection()
    try:
        raw.cursor().execute(statements)
        raw.commit()
    finally:
        raw.close()
        engine.dispose()


@pytest.fixture
def rental(pg_engine: sa.Engine, pg_database: str) -> str:
    raw = pg_engine.raw_connection()
    try:
        raw.cursor().execute(RENTAL_SCHEMA)
        raw.commit()
    finally:
        raw.close()
    return pg_database


def test_exact_counts_skip_an_unpopulated_materialized_view_with_a_note(rental: str) -> None:
    catalog = PostgresDatabase().scan("rental", source(rental), exact_row_counts=True)

    totals = catalog.table("public.payment_totals")
    assert totals is not None and totals.row_count is None and not totals.row_count_exact
    assert catalog.notes == (
        "public.payment_totals: materialized view not populated (created WITH NO DATA); its rows are not counted",
    )
    payment = catalog.table("public.payment")
    assert payment is not None and (payment.row_count, payment.row_count_exact) == (40, True)


def test_partitions_are_listed_under_their_table_and_counted_once(rental: str) -> None:
    catalog = PostgresDatabase().scan("rental", source(rental))

    assert [t.name for t in catalog.tables] == [
        "active_customers",
        "customer",
        "film",
        "payment",
        "payment_refund",
        "payment_totals",
        "rental",
    ]
    payment = catalog.table("public.payment")
    assert payment is not None
    assert payment.partition_key == "RANGE (payment_date)"
    assert payment.partitions == (
        Partition(
            "public.payment_p2022_01",
            "FOR VALUES FROM ('2022-01-01 00:00:00+00') TO ('2022-02-01 00:00:00+00')",
        ),
        Partition(
            "public.payment_p2022_02",
            "FOR VALUES FROM ('2022-02-01 00:00:00+00') TO ('2022-03-01 00:00:00+00')",
        ),
    )
    # 31 January payments and 9 February ones, estimated once through the parent.
    assert payment.row_count == 40
    assert sum(t.row_count or 0 for t in catalog.tables) == 40 + 3


def test_a_foreign_key_to_a_partitioned_table_is_the_one_declared(rental: str) -> None:
    catalog = PostgresDatabase().scan("rental", source(rental))

    refund = catalog.table("public.payment_refund")
    payment = catalog.table("public.payment")
    assert refund is not None and payment is not None
    assert [fk.name for fk in refund.foreign_keys] == ["refund_payment_fk"]
    assert [(fk.target_table, fk.on_delete) for fk in payment.foreign_keys] == [("customer", "CASCADE")]


def test_types_checks_actions_identity_collation_indexes_and_views(rental: str) -> None:
    catalog = PostgresDatabase().scan("rental", source(rental))

    assert catalog.types == (
        UserType("public", "mpaa_rating", "enum", labels=("G", "PG", "PG-13", "R", "NC-17")),
        UserType(
            "public",
            "year",
            "domain",
            base_type="integer",
            checks=(CheckConstraint("year_check", "CHECK (VALUE >= 1901 AND VALUE <= 2155)"),),
        ),
    )
    customer, film, rental_table = (catalog.table(f"public.{n}") for n in ("customer", "film", "rental"))
    assert customer is not None and film is not None and rental_table is not None
    assert [(c.name, c.identity, c.collation) for c in customer.columns] == [
        ("customer_id", "always", None),
        ("email", None, "C"),
        ("active", None, None),
    ]
    assert film.column("film_id").identity == "serial"  # type: ignore[union-attr]
    assert film.checks == (CheckConstraint("film_rate_check", "CHECK (rental_rate >= 0::numeric)"),)
    assert [(i.name, i.method, i.predicate) for i in film.indexes] == [
        ("film_fulltext_idx", "gist", None),
        ("film_title_family", "btree", "rating <> 'NC-17'::mpaa_rating"),
    ]
    (fk,) = rental_table.foreign_keys
    assert (fk.on_delete, fk.on_update) == ("RESTRICT", "CASCADE")
    assert [(x.name, x.definition) for x in rental_table.exclusions] == [
        ("rental_no_overlap", "EXCLUDE USING gist (during WITH &&)")
    ]
    view = catalog.table("public.active_customers")
    assert view is not None and view.view_definition is not None and "WHERE customer.active" in view.view_definition


@pytest.fixture
def store(sqlite_url: Callable[[str], str]) -> sa.Engine:
    return open_store(sqlite_url("ops.db"))


def drift_after(store: sa.Engine, database: str, change: str) -> list[tuple[str, str, str]]:
    scan_source(store, "rental", source(database), None)
    run(database, change)
    outcome = scan_source(store, "rental", source(database), None)
    return sorted((c.kind, c.object_name, c.classification) for c in outcome.changes)


def test_enum_value_added_and_view_refiltered_are_compatible(rental: str, store: sa.Engine) -> None:
    changes = drift_after(
        store,
        rental,
        "ALTER TYPE mpaa_rating ADD VALUE 'X';"
        "CREATE OR REPLACE VIEW active_customers AS SELECT customer_id, email FROM customer WHERE NOT active;",
    )
    assert changes == [
        ("enum_value_added", "public.mpaa_rating", "compatible"),
        ("view_definition_changed", "public.active_customers", "compatible"),
    ]


def test_check_added_fk_action_changed_and_partition_added(rental: str, store: sa.Engine) -> None:
    changes = drift_after(
        store,
        rental,
        "ALTER TABLE customer ADD CONSTRAINT email_has_at CHECK (email LIKE '%@%');"
        "ALTER TABLE rental DROP CONSTRAINT rental_customer_id_fkey,"
        " ADD CONSTRAINT rental_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES customer ON DELETE CASCADE;"
        "CREATE TABLE payment_p2022_03 PARTITION OF payment FOR VALUES FROM ('2022-03-01') TO ('2022-04-01');",
    )
    assert changes == [
        ("check_added", "public.customer", "breaking"),
        ("foreign_key_action_changed", "public.rental", "breaking"),
        ("partition_added", "public.payment:public.payment_p2022_03", "compatible"),
    ]


def test_a_renamed_table_and_column_are_one_change_each(rental: str, store: sa.Engine) -> None:
    changes = drift_after(
        store, rental, "ALTER TABLE customer RENAME TO client; ALTER TABLE film RENAME COLUMN title TO name;"
    )
    # The foreign keys of rental and payment now point at client: re-pointed, not removed and added. The view
    # reads client now, with the same columns.
    assert changes == [
        ("column_renamed", "public.film.name", "breaking"),
        ("table_renamed", "public.client", "breaking"),
        ("view_definition_changed", "public.active_customers", "compatible"),
    ]
