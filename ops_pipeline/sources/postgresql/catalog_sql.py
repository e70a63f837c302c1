"""The pg_catalog queries of a PostgreSQL scan: each reads one kind of object for the whole database at once."""

from __future__ import annotations

SYSTEM_SCHEMAS = "('pg_catalog', 'information_schema')"
USER_SCHEMA = f"n.nspname NOT IN {SYSTEM_SCHEMAS} AND n.nspname NOT LIKE 'pg\\_%%'"

# One row per relation; its columns come as one JSON array (in attnum order) that json.loads decodes in C,
# which is faster than fetching and grouping a row per column. A partition names its root (the partitioned
# table it belongs to, however deep) and its bound; a column's collation is given only when it is not its
# type's own (looked up only for a column whose collation is not the database default, which few are).
DEFAULT_COLLATION = 100  # pg_collation's "default", fixed in every PostgreSQL
RELATIONS_AND_COLUMNS = f"""
SELECT n.nspname, c.relname, c.relkind, c.reltuples::bigint, td.description, c.relispopulated,
       CASE WHEN c.relispartition THEN
           (SELECT ARRAY[rn.nspname::text, r.relname::text] FROM pg_class r
            JOIN pg_namespace rn ON rn.oid = r.relnamespace WHERE r.oid = pg_partition_root(c.oid)) END,
       CASE WHEN c.relispartition THEN pg_get_expr(c.relpartbound, c.oid) END,
       CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END,
       CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid, true) END,
       (SELECT json_agg(json_build_array(a.attname, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull,
                                         pg_get_expr(ad.adbin, ad.adrelid), cd.description,
                                         CASE a.attidentity WHEN 'a' THEN 'always' WHEN 'd' THEN 'by default' END,
                                         CASE WHEN a.attcollation NOT IN (0, {DEFAULT_COLLATION}) THEN
                                             (SELECT co.collname FROM pg_collation co JOIN pg_type ty
                                                ON ty.oid = a.atttypid AND ty.typcollation <> co.oid
                                              WHERE co.oid = a.attcollation) END)
                        ORDER BY a.attnum)::text
        FROM pg_attribute a
        LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
        LEFT JOIN pg_description cd
               ON cd.objoid = a.attrelid AND cd.classoid = 'pg_class'::regclass AND cd.objsubid = a.attnum
        WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped)
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_description td ON td.objoid = c.oid AND td.classoid = 'pg_class'::regclass AND td.objsubid = 0
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND {USER_SCHEMA}
"""

# One row per constrained column (ord = its position in the key), grouped into constraints in Python. A
# constraint with a parent is PostgreSQL's own copy on a partition (of the referencing or the referenced
# table): the user declared only the parent.
KEYS = f"""
SELECT n.nspname, c.relname, con.conname, con.contype, k.ord, a.attname, fn.nspname, fc.relname, fa.attname,
       con.confdeltype, con.confupdtype
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
CROSS JOIN LATERAL unnest(con.conkey) WITH ORDINALITY k(num, ord)
JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.num
LEFT JOIN pg_class fc ON fc.oid = con.confrelid
LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace
LEFT JOIN pg_attribute fa ON fa.attrelid = con.confrelid AND fa.attnum = con.confkey[k.ord]
WHERE con.contype IN ('p', 'u', 'f') AND con.conparentid = 0 AND {USER_SCHEMA}
"""

# CHECK and EXCLUDE constraints as the server prints them back.
CHECKS_AND_EXCLUSIONS = f"""
SELECT n.nspname, c.relname, con.conname, con.contype, pg_get_constraintdef(con.oid, true)
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE con.contype IN ('c', 'x') AND con.conparentid = 0 AND {USER_SCHEMA}
"""

# Indexes that back a primary key, unique or exclusion constraint are reported as that constraint, not twice.
INDEXES = f"""
SELECT n.nspname, t.relname, i.relname, ix.indisunique,
       ARRAY(SELECT coalesce(a.attname, pg_get_indexdef(ix.indexrelid, k.ord::int, true))
             FROM unnest(ix.indkey::int2[]) WITH ORDINALITY k(num, ord)
             LEFT JOIN pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = k.num
             WHERE k.ord <= ix.indnkeyatts ORDER BY k.ord),
       am.amname, pg_get_expr(ix.indpred, ix.indrelid, true)
FROM pg_index ix
JOIN pg_class t ON t.oid = ix.indrelid
JOIN pg_class i ON i.oid = ix.indexrelid
JOIN pg_am am ON am.oid = i.relam
JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE {USER_SCHEMA}
  AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = ix.indexrelid
                  AND con.contype IN ('p', 'u', 'x'))
"""

# Enums with their labels in order, and domains with their base type, NOT NULL, default and checks. The
# array types PostgreSQL makes for each (typtype 'b') are not user types.
USER_TYPES = f"""
SELECT n.nspname, t.typname, t.typtype,
       ARRAY(SELECT e.enumlabel FROM pg_enum e WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder),
       CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) END, t.typnotnull, t.typdefault,
       (SELECT json_agg(json_build_array(con.conname, pg_get_constraintdef(con.oid, true)) ORDER BY con.conname)
        FROM pg_constraint con WHERE con.contypid = t.oid AND con.contype = 'c')::text
FROM pg_type t
JOIN pg_namespace n ON n.oid = t.typnamespace
WHERE t.typtype IN ('e', 'd') AND {USER_SCHEMA}
"""

FK_ACTIONS = {"a": "NO ACTION", "r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}
