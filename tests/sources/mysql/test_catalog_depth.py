"""The MariaDB catalog in depth, on a film-rental-like schema: checks, foreign-key actions, AUTO_INCREMENT,
ON UPDATE CURRENT_TIMESTAMP, collation, FULLTEXT indexes, view definitions and the types a default session
derives for them, and partitions."""

import pytest

from ops_pipeline.core.catalog import Partition
from ops_pipeline.sources.mysql import MySQLDatabase
from tests.sources.mysql.test_database import run, source

RENTAL_SCHEMA = (
    """CREATE TABLE customer (
        customer_id SMALLINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
        email VARCHAR(50) COLLATE utf8mb4_bin,
        first_name VARCHAR(45) NOT NULL,
        last_update TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP
    ) DEFAULT CHARSET utf8mb4 COLLATE utf8mb4_general_ci""",
    """CREATE TABLE film (
        film_id SMALLINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
        title VARCHAR(128) NOT NULL,
        description TEXT,
        rental_rate DECIMAL(4,2) NOT NULL DEFAULT 4.99,
        CONSTRAINT film_rate_check CHECK (rental_rate >= 0),
        FULLTEXT KEY idx_title_description (title, description)
    ) DEFAULT CHARSET utf8mb4""",
    """CREATE TABLE rental (
        rental_id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
        customer_id SMALLINT UNSIGNED NOT NULL,
        film_id SMALLINT UNSIGNED NOT NULL,
        CONSTRAINT fk_rental_customer FOREIGN KEY (customer_id) REFERENCES customer (customer_id)
            ON DELETE RESTRICT ON UPDATE CASCADE,
        CONSTRAINT fk_rental_film FOREIGN KEY (film_id) REFERENCES film (film_id) ON DELETE CASCADE
    )""",
    """CREATE TABLE payment_log (
        id INT NOT NULL,
        paid_on DATE NOT NULL,
        PRIMARY KEY (id, paid_on)
    ) PARTITION BY RANGE (YEAR(paid_on)) (
        PARTITION p2021 VALUES LESS THAN (2022),
        PARTITION p2022 VALUES LESS THAN (2023)
    )""",
    """CREATE VIEW film_list AS
        SELECT f.film_id, f.title, GROUP_CONCAT(c.first_name SEPARATOR ', ') AS renters
        FROM film f JOIN rental r ON r.film_id = f.film_id JOIN customer c ON c.customer_id = r.customer_id
        GROUP BY f.film_id, f.title""",
)


@pytest.fixture
def rental(mysql_database: str) -> str:
    run(mysql_database, *RENTAL_SCHEMA)
    return mysql_database


def test_view_columns_have_the_types_a_default_session_sees(rental: str) -> None:
    catalog = MySQLDatabase().scan("rental", source(rental))

    film_list = catalog.table(f"{rental}.film_list")
    assert film_list is not None
    renters = film_list.column("renters")
    # GROUP_CONCAT at the server's default group_concat_max_len (1 MiB) is mediumtext, not longtext.
    assert renters is not None and renters.data_type == "mediumtext"
    assert film_list.view_definition is not None and "group_concat" in film_list.view_definition.lower()


def test_checks_actions_auto_increment_on_update_collation_and_fulltext(rental: str) -> None:
    catalog = MySQLDatabase().scan("rental", source(rental))
    customer, film, rental_table = (catalog.table(f"{rental}.{n}") for n in ("customer", "film", "rental"))
    assert customer is not None and film is not None and rental_table is not None

    assert [(c.name, c.identity, c.collation, c.on_update) for c in customer.columns] == [
        ("customer_id", "auto_increment", None, None),
        ("email", None, "utf8mb4_bin", None),
        ("first_name", None, None, None),
        ("last_update", None, None, "current_timestamp()"),
    ]
    assert [(c.name, c.expression) for c in film.checks] == [("film_rate_check", "`rental_rate` >= 0")]
    assert [(i.name, i.columns, i.method) for i in film.indexes] == [
        ("idx_title_description", ("title", "description"), "fulltext")
    ]
    assert [(fk.name, fk.on_delete, fk.on_update) for fk in rental_table.foreign_keys] == [
        ("fk_rental_customer", "RESTRICT", "CASCADE"),
        ("fk_rental_film", "CASCADE", "RESTRICT"),
    ]


def test_partitions_are_listed_with_their_bounds(rental: str) -> None:
    catalog = MySQLDatabase().scan("rental", source(rental))

    log = catalog.table(f"{rental}.payment_log")
    assert log is not None
    assert log.partition_key == "RANGE (year(`paid_on`))"
    assert log.partitions == (
        Partition("p2021", "VALUES LESS THAN (2022)"),
        Partition("p2022", "VALUES LESS THAN (2023)"),
    )
    assert catalog.types is None  # MySQL has no named types: an ENUM is a column type
