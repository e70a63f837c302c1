"""The information_schema queries of a MySQL or MariaDB scan, each over one whole database."""

from __future__ import annotations

TABLES = """
SELECT TABLE_NAME, TABLE_TYPE, TABLE_ROWS, TABLE_COMMENT, TABLE_COLLATION, CREATE_OPTIONS
FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s
"""

# All columns as one string, fields and records split by ASCII unit/record separators: one value to transfer
# and str.split in C beats PyMySQL decoding 10,000 rows in pure Python (and JSON_ARRAYAGG, which MariaDB
# builds slowly). The server orders them (cheaper than sorting in Python, and the second connection's thread
# gets the interpreter meanwhile). A NULL default or collation is spelled as the group separator. A name or
# comment holding one of these control characters changes the field count of its record, which the scan
# detects and then falls back to plain rows. GROUP_CONCAT is capped by group_concat_max_len, so the session
# raises it first.
FIELD, RECORD, NULL_VALUE = "\x1f", "\x1e", "\x1d"
COLUMN_FIELDS = 9
COLUMNS_PACKED = """
SELECT GROUP_CONCAT(CONCAT_WS(CHAR(31 USING utf8mb4), TABLE_NAME, ORDINAL_POSITION, COLUMN_NAME, COLUMN_TYPE,
                              IS_NULLABLE, IFNULL(COLUMN_DEFAULT, CHAR(29 USING utf8mb4)), COLUMN_COMMENT, EXTRA,
                              IFNULL(COLLATION_NAME, CHAR(29 USING utf8mb4)))
                    ORDER BY TABLE_NAME, ORDINAL_POSITION SEPARATOR 0x1e)
FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = %s
"""
COLUMNS = """
SELECT TABLE_NAME, ORDINAL_POSITION, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, COLUMN_COMMENT, EXTRA,
       COLLATION_NAME
FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = %s
"""
UNLIMITED_AGGREGATES = "SET SESSION group_concat_max_len = 4294967295"
# A view's column types are derived in the reading session: a GROUP_CONCAT column is longtext under the raised
# limit and mediumtext (or less) under the server's, which is what every other client sees.
DEFAULT_AGGREGATES = "SET SESSION group_concat_max_len = DEFAULT"

VIEWS = "SELECT TABLE_NAME, VIEW_DEFINITION FROM information_schema.VIEWS WHERE TABLE_SCHEMA = %s"

KEY_COLUMNS = """
SELECT TABLE_NAME, CONSTRAINT_NAME, COLUMN_NAME,
       REFERENCED_TABLE_SCHEMA, REFERENCED_TABLE_NAME, REFERENCED_COLUMN_NAME
FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = %s
ORDER BY TABLE_NAME, CONSTRAINT_NAME, ORDINAL_POSITION
"""

FOREIGN_KEY_ACTIONS = """
SELECT TABLE_NAME, CONSTRAINT_NAME, DELETE_RULE, UPDATE_RULE
FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = %s
"""

INDEX_COLUMNS = """
SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, COLUMN_NAME, INDEX_TYPE
FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = %s AND INDEX_NAME <> 'PRIMARY'
ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX
"""

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
