"""The information_schema queries of a MySQL or MariaDB scan, each over one whole database."""

from __future__ import annotations

from dataclasses import dataclass

FIELD, RECORD, NULL_VALUE = "\x1f", "\x1e", "\x1d"


@dataclass(frozen=True)
class Listing:
    """One information_schema listing over a whole database (its one parameter), read as one packed value.

    Packed: every row in one GROUP_CONCAT string, fields and rows split by the ASCII unit and record separators.
    One value to transfer and str.split in C beat PyMySQL decoding thousands of rows in pure Python (and
    JSON_ARRAYAGG, which MariaDB builds slowly); the server sorts it. A NULL is spelled as the group separator,
    so each `nullable` field is wrapped. A name or comment holding one of these control characters changes its
    record's field count, which the scan detects and then reads the `plain` rows instead. GROUP_CONCAT is capped
    by group_concat_max_len, which the reading session raises first (UNLIMITED_AGGREGATES).
    """

    fields: tuple[str, ...]
    source: str  # FROM ... WHERE ...
    order: str
    nullable: frozenset[int] = frozenset()  # positions of the fields that may be NULL

    def plain(self, condition: str = "") -> str:
        return f"SELECT {', '.join(self.fields)} {self.source} {condition} ORDER BY {self.order}"

    @property
    def packed(self) -> str:
        fields = ", ".join(
            f"IFNULL({name}, CHAR(29 USING utf8mb4))" if i in self.nullable else name
            for i, name in enumerate(self.fields)
        )
        return (
            f"SELECT GROUP_CONCAT(CONCAT_WS(CHAR(31 USING utf8mb4), {fields}) ORDER BY {self.order} SEPARATOR 0x1e) "
            f"{self.source}"
        )


TABLES = Listing(
    ("TABLE_NAME", "TABLE_TYPE", "TABLE_ROWS", "TABLE_COMMENT", "TABLE_COLLATION", "CREATE_OPTIONS"),
    "FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s",
    "TABLE_NAME",
    frozenset({2, 3, 4, 5}),
)
COLUMNS = Listing(
    (
        "TABLE_NAME",
        "ORDINAL_POSITION",
        "COLUMN_NAME",
        "COLUMN_TYPE",
        "IS_NULLABLE",
        "COLUMN_DEFAULT",
        "COLUMN_COMMENT",
        "EXTRA",
        "COLLATION_NAME",
    ),
    "FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = %s",
    "TABLE_NAME, ORDINAL_POSITION",  # in ordinal order within each table
    frozenset({5, 8}),
)
UNLIMITED_AGGREGATES = "SET SESSION group_concat_max_len = 4294967295"
# A view's column types are derived in the reading session: a GROUP_CONCAT column is longtext under the raised
# limit and mediumtext (or less) under the server's, which is what every other client sees.
DEFAULT_AGGREGATES = "SET SESSION group_concat_max_len = DEFAULT"

VIEWS = "SELECT TABLE_NAME, VIEW_DEFINITION FROM information_schema.VIEWS WHERE TABLE_SCHEMA = %s"

KEY_COLUMNS = Listing(
    (
        "TABLE_NAME",
        "CONSTRAINT_NAME",
        "COLUMN_NAME",
        "REFERENCED_TABLE_SCHEMA",
        "REFERENCED_TABLE_NAME",
        "REFERENCED_COLUMN_NAME",
    ),
    "FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = %s",
    "TABLE_NAME, CONSTRAINT_NAME, ORDINAL_POSITION",
    frozenset({3, 4, 5}),
)

FOREIGN_KEY_ACTIONS = Listing(
    ("TABLE_NAME", "CONSTRAINT_NAME", "DELETE_RULE", "UPDATE_RULE"),
    "FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = %s",
    "TABLE_NAME, CONSTRAINT_NAME",
)

INDEX_COLUMNS = Listing(
    ("TABLE_NAME", "INDEX_NAME", "NON_UNIQUE", "COLUMN_NAME", "INDEX_TYPE"),
    "FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = %s AND INDEX_NAME <> 'PRIMARY'",
    "TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX",
    frozenset({3}),  # an expression (functional) index part has no column
)

# MariaDB names a column-level check after its column, so names repeat across tables: its CHECK_CONSTRAINTS
# carries TABLE_NAME. MySQL's does not, and its check names are unique per schema.
MARIADB_CHECKS = """
SELECT TABLE_NAME, CONSTRAINT_NAME, CHECK_CLAUSE
FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = %s
"""
MYSQL_CHECKS = """
SELECT tc.TABLE_NAME, cc.CONSTRAINT_NAME, cc.CHECK_CLAUSE
FROM information_schema.TABLE_CONSTRAINTS tc
JOIN information_schema.CHECK_CONSTRAINTS cc
  ON cc.CONSTRAINT_SCHEMA = tc.CONSTRAINT_SCHEMA AND cc.CONSTRAINT_NAME = tc.CONSTRAINT_NAME
WHERE tc.TABLE_SCHEMA = %s AND tc.CONSTRAINT_TYPE = 'CHECK'
"""

# Asked only for the tables TABLES marks as partitioned: information_schema.PARTITIONS opens every table.
PARTITIONS = """
SELECT TABLE_NAME, PARTITION_NAME, SUBPARTITION_NAME, PARTITION_METHOD, PARTITION_EXPRESSION,
       PARTITION_DESCRIPTION
FROM information_schema.PARTITIONS
WHERE TABLE_SCHEMA = %s AND TABLE_NAME IN ({names}) AND PARTITION_NAME IS NOT NULL
ORDER BY TABLE_NAME, PARTITION_ORDINAL_POSITION, SUBPARTITION_ORDINAL_POSITION
"""
