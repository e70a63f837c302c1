"""Column type spellings: normalisation and widening, shared by drift and model generation."""

from __future__ import annotations

import pytest

from ops_pipeline.core.sql_types import is_widening, normalize_type


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("smallint", "integer"),
        ("int2", "int4"),
        ("tinyint", "smallint"),
        ("tinyint", "mediumint"),
        ("mediumint", "int"),
        ("integer", "bigint"),
        ("INT", "INT8"),
        ("bigint", "numeric"),
        ("integer", "decimal"),
        ("int(11)", "bigint(20)"),
        ("int unsigned", "bigint"),
        ("integer", "numeric(12,2)"),
        ("varchar(10)", "varchar(20)"),
        ("character varying(10)", "varchar(255)"),
        ("char(2)", "varchar(2)"),
        ("char(5)", "varchar(10)"),
        ("varchar(255)", "text"),
        ("VARCHAR(255)", "LONGTEXT"),
        ("varchar(255)", "mediumtext"),
        ("varchar(40)", "character varying"),
        ("character varying(40)", "character varying"),
        ("numeric(10,2)", "numeric(12,2)"),
        ("numeric(10,2)", "numeric(12,4)"),
        ("numeric( 10 , 2 )", "NUMERIC(11,3)"),
        ("decimal(10,2)", "numeric"),
        ("numeric(5)", "numeric(7,2)"),
        ("real", "double precision"),
        ("float4", "float8"),
        ("tinytext", "text"),
        ("text", "mediumtext"),
        ("mediumtext", "longtext"),
        ("tinytext", "longtext"),
        ("varbinary(16)", "varbinary(32)"),
        ("blob", "longblob"),
        ("timestamp(3)", "timestamp(6)"),
        ("enum('a','b')", "enum('a','b','c')"),
    ],
)
def test_widening(before: str, after: str) -> None:
    assert is_widening(before, after)
    assert not is_widening(after, before) or normalize_type(before) == normalize_type(after)


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("integer", "smallint"),
        ("bigint", "integer"),
        ("numeric", "bigint"),
        ("integer", "int unsigned"),
        ("bigint", "numeric(12,2)"),
        ("integer", "text"),
        ("varchar(20)", "varchar(10)"),
        ("text", "varchar(255)"),
        ("character varying", "varchar(10)"),
        ("varchar(10)", "char(10)"),
        ("varchar(10)", "tinytext"),
        ("longtext", "text"),
        ("numeric(10,2)", "numeric(10,3)"),
        ("numeric(10,2)", "numeric(12,1)"),
        ("numeric(12,2)", "numeric(10,2)"),
        ("numeric", "numeric(38,10)"),
        ("double precision", "real"),
        ("real", "numeric"),
        ("timestamp", "timestamp with time zone"),
        ("timestamp with time zone", "timestamp"),
        ("timestamp", "timestamptz"),
        ("date", "timestamp"),
        ("timestamp(6)", "timestamp(3)"),
        ("boolean", "integer"),
        ("enum('a','b')", "enum('b','a')"),
        ("enum('a','b','c')", "enum('a','b')"),
        ("uuid", "text"),
        # the same type (any spelling) is not a change, so not a widening either
        ("integer", "integer"),
        ("integer", "INT4"),
        ("varchar(10)", "character varying (10)"),
        ("numeric(10,2)", "DECIMAL(10, 2)"),
    ],
)
def test_not_widening(before: str, after: str) -> None:
    assert not is_widening(before, after)


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("Character Varying ( 20 )", "varchar(20)"),
        ("INT(11)", "integer"),
        ("int(10) unsigned", "integer unsigned"),
        ("timestamp(3) with time zone", "timestamptz(3)"),
        ("timestamp without time zone", "timestamp"),
        ("DECIMAL(10, 2)", "numeric(10,2)"),
        ("numeric(7)", "numeric(7,0)"),
        ("double", "double precision"),
        ("float(53)", "double precision"),
        ("enum('A','b')", "enum('A','b')"),
    ],
)
def test_normalize_type(raw: str, normalized: str) -> None:
    assert normalize_type(raw) == normalized
