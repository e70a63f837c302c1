"""Schema drift: what changed between the previous completed scan of a source and the new one.

`diff_catalogs` compares two `Catalog` scans and returns one `SchemaChange` per difference, each classified
as ``compatible`` or ``breaking``. `next_version` moves the catalog version the way OpenMetadata moves an
entity version: compatible changes bump the minor number, any breaking change bumps the major number.

Matching
    Tables are matched by ``qualified_name``, columns by name. Foreign keys, unique constraints and indexes
    are matched by their content (columns and target), never by name, so renaming a constraint or an index
    without changing what it covers is not a change. A renamed table or column shows up as a removal plus
    an addition. Row counts, comments and entity names are not part of the schema and are ignored.

Classification rules
    ============================  ===========================================================
    kind                          classification
    ============================  ===========================================================
    table_added                   compatible
    table_removed                 breaking
    column_added                  compatible if nullable or it has a default; breaking when it is
                                  NOT NULL without a default (existing writers start failing)
    column_removed                breaking
    column_type_changed           compatible only for a widening (see `is_widening`), else breaking
    column_nullability_changed    NOT NULL -> nullable compatible; nullable -> NOT NULL breaking
    column_default_changed        compatible
    primary_key_changed           breaking (also when a key is added or dropped)
    foreign_key_added             breaking (existing rows or writers may violate it)
    foreign_key_removed           compatible
    unique_added                  breaking
    unique_removed                breaking (readers may rely on the uniqueness)
    index_added / index_removed   compatible; breaking for a unique index (it constrains writers)
    table_kind_changed            breaking (e.g. table <-> view)
    ============================  ===========================================================

Two type spellings that normalize to the same type (case, spacing, aliases such as ``int4``/``integer``,
``character varying``/``varchar``, MySQL integer display widths) are not a change at all.
"""

from ops_pipeline.core.drift.changes import (
    BREAKING,
    CHANGE_KINDS,
    COLUMN_ADDED,
    COLUMN_DEFAULT_CHANGED,
    COLUMN_NULLABILITY_CHANGED,
    COLUMN_REMOVED,
    COLUMN_TYPE_CHANGED,
    COMPATIBLE,
    FOREIGN_KEY_ADDED,
    FOREIGN_KEY_REMOVED,
    INDEX_ADDED,
    INDEX_REMOVED,
    PRIMARY_KEY_CHANGED,
    TABLE_ADDED,
    TABLE_KIND_CHANGED,
    TABLE_REMOVED,
    UNIQUE_ADDED,
    UNIQUE_REMOVED,
    Classification,
    SchemaChange,
    drift_summary,
)
from ops_pipeline.core.drift.diff import diff_catalogs
from ops_pipeline.core.drift.versions import INITIAL_VERSION, CatalogVersion, next_version

__all__ = [
    "BREAKING",
    "CHANGE_KINDS",
    "COLUMN_ADDED",
    "COLUMN_DEFAULT_CHANGED",
    "COLUMN_NULLABILITY_CHANGED",
    "COLUMN_REMOVED",
    "COLUMN_TYPE_CHANGED",
    "COMPATIBLE",
    "FOREIGN_KEY_ADDED",
    "FOREIGN_KEY_REMOVED",
    "INDEX_ADDED",
    "INDEX_REMOVED",
    "INITIAL_VERSION",
    "PRIMARY_KEY_CHANGED",
    "TABLE_ADDED",
    "TABLE_KIND_CHANGED",
    "TABLE_REMOVED",
    "UNIQUE_ADDED",
    "UNIQUE_REMOVED",
    "CatalogVersion",
    "Classification",
    "SchemaChange",
    "diff_catalogs",
    "drift_summary",
    "next_version",
]
