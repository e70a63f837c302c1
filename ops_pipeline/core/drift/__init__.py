"""Schema drift: what changed between the previous completed scan of a source and the new one.

`diff_catalogs` compares two `Catalog` scans and returns one `SchemaChange` per difference, each classified
as ``compatible`` or ``breaking``. `next_version` moves the catalog version the way OpenMetadata moves an
entity version: compatible changes bump the minor number, any breaking change bumps the major number.

Matching
    Tables are matched by ``qualified_name``, columns by name. Foreign keys, unique constraints and indexes
    are matched by their content (columns and target), never by name, so renaming a constraint or an index
    without changing what it covers is not a change. A table gone and one appeared with the same shape
    (columns, keys, checks, indexes) is one ``table_renamed``, and foreign keys pointing at it are re-pointed,
    not removed and added; a column gone and one appeared at the same position with the same type and rules
    is one ``column_renamed``. An ambiguous pair stays a removal plus an addition. Row counts, comments and
    entity names are not part of the schema and are ignored. Identity, collation, ON UPDATE, foreign key
    actions, checks, exclusions, index methods and predicates, view definitions and partitions are compared
    only when both scans recorded them (definition format 2), and types only when both scans listed them.

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
    table_renamed                 breaking (said once; foreign keys re-pointed)
    column_renamed                breaking
    column_identity_changed       breaking when the generated value is lost or becomes ALWAYS, else
                                  compatible (identity, serial, AUTO_INCREMENT, AUTOINCREMENT)
    column_collation_changed      breaking (comparisons, ordering and uniqueness change)
    column_on_update_changed      breaking when ON UPDATE CURRENT_TIMESTAMP is lost, else compatible
    foreign_key_action_changed    breaking (ON DELETE / ON UPDATE)
    check_added / check_removed   breaking / compatible
    exclusion_added / _removed    breaking / compatible
    view_definition_changed       compatible; breaking when the view's columns changed too
    partition_key_changed         breaking
    partition_added / _removed    compatible / breaking (its rows leave the table)
    partition_bound_changed       breaking
    type_added / type_removed     compatible / breaking (enums and domains)
    enum_value_added / _removed   compatible / breaking
    enum_values_reordered         compatible
    domain_changed                breaking for a new check, NOT NULL or a narrower base type; else
                                  compatible
    ============================  ===========================================================

Two type spellings that normalize to the same type (case, spacing, aliases such as ``int4``/``integer``,
``character varying``/``varchar``, MySQL integer display widths) are not a change at all.
"""

from ops_pipeline.core.drift.changes import (
    BREAKING,
    CHANGE_KINDS,
    CHECK_ADDED,
    CHECK_REMOVED,
    COLUMN_ADDED,
    COLUMN_COLLATION_CHANGED,
    COLUMN_DEFAULT_CHANGED,
    COLUMN_IDENTITY_CHANGED,
    COLUMN_NULLABILITY_CHANGED,
    COLUMN_ON_UPDATE_CHANGED,
    COLUMN_REMOVED,
    COLUMN_RENAMED,
    COLUMN_TYPE_CHANGED,
    COMPATIBLE,
    DOMAIN_CHANGED,
    ENUM_VALUE_ADDED,
    ENUM_VALUE_REMOVED,
    ENUM_VALUES_REORDERED,
    EXCLUSION_ADDED,
    EXCLUSION_REMOVED,
    FOREIGN_KEY_ACTION_CHANGED,
    FOREIGN_KEY_ADDED,
    FOREIGN_KEY_REMOVED,
    INDEX_ADDED,
    INDEX_REMOVED,
    PARTITION_ADDED,
    PARTITION_BOUND_CHANGED,
    PARTITION_KEY_CHANGED,
    PARTITION_REMOVED,
    PRIMARY_KEY_CHANGED,
    TABLE_ADDED,
    TABLE_KIND_CHANGED,
    TABLE_REMOVED,
    TABLE_RENAMED,
    TYPE_ADDED,
    TYPE_REMOVED,
    UNIQUE_ADDED,
    UNIQUE_REMOVED,
    VIEW_DEFINITION_CHANGED,
    Classification,
    SchemaChange,
    drift_summary,
)
from ops_pipeline.core.drift.diff import diff_catalogs
from ops_pipeline.core.drift.versions import INITIAL_VERSION, CatalogVersion, next_version

__all__ = [
    "BREAKING",
    "CHANGE_KINDS",
    "CHECK_ADDED",
    "CHECK_REMOVED",
    "COLUMN_ADDED",
    "COLUMN_COLLATION_CHANGED",
    "COLUMN_DEFAULT_CHANGED",
    "COLUMN_IDENTITY_CHANGED",
    "COLUMN_NULLABILITY_CHANGED",
    "COLUMN_ON_UPDATE_CHANGED",
    "COLUMN_REMOVED",
    "COLUMN_RENAMED",
    "COLUMN_TYPE_CHANGED",
    "COMPATIBLE",
    "DOMAIN_CHANGED",
    "ENUM_VALUES_REORDERED",
    "ENUM_VALUE_ADDED",
    "ENUM_VALUE_REMOVED",
    "EXCLUSION_ADDED",
    "EXCLUSION_REMOVED",
    "FOREIGN_KEY_ACTION_CHANGED",
    "FOREIGN_KEY_ADDED",
    "FOREIGN_KEY_REMOVED",
    "INDEX_ADDED",
    "INDEX_REMOVED",
    "INITIAL_VERSION",
    "PARTITION_ADDED",
    "PARTITION_BOUND_CHANGED",
    "PARTITION_KEY_CHANGED",
    "PARTITION_REMOVED",
    "PRIMARY_KEY_CHANGED",
    "TABLE_ADDED",
    "TABLE_KIND_CHANGED",
    "TABLE_REMOVED",
    "TABLE_RENAMED",
    "TYPE_ADDED",
    "TYPE_REMOVED",
    "UNIQUE_ADDED",
    "UNIQUE_REMOVED",
    "VIEW_DEFINITION_CHANGED",
    "CatalogVersion",
    "Classification",
    "SchemaChange",
    "diff_catalogs",
    "drift_summary",
    "next_version",
]
