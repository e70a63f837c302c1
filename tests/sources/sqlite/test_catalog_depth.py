"""The SQLite catalog in depth, on a music-store-like schema: declared foreign-key names and actions, CHECKs,
AUTOINCREMENT, collation, partial indexes, view definitions, and DEFAULT NULL read as no default."""

import sqlite3
from pathlib import Path

import pytest

from ops_pipeline.core.catalog import CheckConstraint
from ops_pipeline.sources.sqlite import SQLiteDatabase
from tests.sources.sqlite.test_database import source

MUSIC_SCHEMA = """
CREATE TABLE artist (
    artist_id INTEGER PRIMARY KEY AUTOINCREMENT,
    name NVARCHAR(120) COLLATE NOCASE DEFAULT NULL
);
CREATE TABLE album (
    album_id INTEGER NOT NULL,
    title NVARCHAR(160) NOT NULL,
    artist_id INTEGER NOT NULL,
    CONSTRAINT pk_album PRIMARY KEY (album_id),
    CONSTRAINT fk_album_artist_id FOREIGN KEY (artist_id) REFERENCES artist (artist_id)
        ON DELETE CASCADE ON UPDATE NO ACTION
);
CREATE TABLE track (
    track_id INTEGER PRIMARY KEY,
    name NVARCHAR(200) NOT NULL,
    album_id INTEGER CONSTRAINT fk_track_album REFERENCES album (album_id) ON DELETE SET NULL,
    genre_id INTEGER REFERENCES genre,
    milliseconds INTEGER NOT NULL CHECK (milliseconds > 0),
    unit_price NUMERIC(10,2) NOT NULL,
    CONSTRAINT ck_track_price CHECK (unit_price >= 0)
);
CREATE TABLE genre (genre_id INTEGER PRIMARY KEY, name NVARCHAR(120));
CREATE INDEX ix_track_long ON track (album_id) WHERE milliseconds > 600000;
CREATE VIEW long_tracks AS SELECT track_id, name FROM track WHERE milliseconds > 600000;
"""


@pytest.fixture
def music(tmp_path: Path) -> Path:
    path = tmp_path / "music.db"
    with sqlite3.connect(path) as conn:
        conn.executescript(MUSIC_SCHEMA)
    conn.close()
    return path


def test_declared_foreign_key_names_and_actions(music: Path) -> None:
    catalog = SQLiteDatabase().scan("music", source(music))
    album, track = catalog.table("main.album"), catalog.table("main.track")
    assert album is not None and track is not None

    assert [(fk.name, fk.on_delete, fk.on_update) for fk in album.foreign_keys] == [
        ("fk_album_artist_id", "CASCADE", "NO ACTION")
    ]
    # One declared name, one undeclared (named from the table and its columns).
    assert sorted((fk.name, fk.target_table, fk.on_delete) for fk in track.foreign_keys) == [
        ("fk_track_album", "album", "SET NULL"),
        ("fk_track_genre_id", "genre", "NO ACTION"),
    ]


def test_checks_autoincrement_collation_default_null_partial_index_and_view(music: Path) -> None:
    catalog = SQLiteDatabase().scan("music", source(music))
    artist, track, genre = (catalog.table(f"main.{n}") for n in ("artist", "track", "genre"))
    assert artist is not None and track is not None and genre is not None

    assert [(c.name, c.default, c.identity, c.collation) for c in artist.columns] == [
        ("artist_id", None, "autoincrement", None),
        ("name", None, None, "NOCASE"),
    ]
    assert genre.column("genre_id").identity == "rowid"  # type: ignore[union-attr]
    assert track.checks == (
        CheckConstraint("check_1", "milliseconds > 0"),
        CheckConstraint("ck_track_price", "unit_price >= 0"),
    )
    assert [(i.name, i.predicate) for i in track.indexes] == [("ix_track_long", "milliseconds > 600000")]
    view = catalog.table("main.long_tracks")
    assert view is not None and view.view_definition is not None
    assert view.view_definition.endswith("WHERE milliseconds > 600000")
