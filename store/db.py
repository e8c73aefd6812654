"""Engine creation and migrations.

SQLite gets WAL, a busy timeout and BEGIN IMMEDIATE (Python's sqlite3 driver would otherwise
defer the write lock to the first write, which lets two writers deadlock). PostgreSQL URLs are
pointed at psycopg 3; Supabase's transaction pooler needs prepared statements off.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine, make_url

if TYPE_CHECKING:
    from store.crypto import FieldCipher

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).with_name("migrations")
SQLITE_BUSY_TIMEOUT_MS = 10_000
MIGRATION_LOCK_ID = 7_860_001  # pg_advisory_lock key, so two processes never migrate at once


def normalise_url(url: str) -> str:
    """Accept the URLs hosting providers print (postgres://, postgresql://) and use psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def create_engine(url: str) -> Engine:
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    connect_args = {}
    if parsed.port == 6543 or "pooler" in (parsed.host or ""):
        connect_args["prepare_threshold"] = None  # transaction pooler: no prepared statements
    return sa.create_engine(url, pool_pre_ping=True, connect_args=connect_args)


def _sqlite_engine(url: str) -> Engine:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url, connect_args={"check_same_thread": False})

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # let SQLAlchemy's BEGIN below be the only BEGIN
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def insert_or_skip(conn: Connection, table: sa.Table, values: dict, conflict: list[str]) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING; True when the row was new (how ledger and payments count things once)."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table).values(**values).on_conflict_do_nothing(index_elements=conflict)
    # RETURNING, not rowcount: psycopg reports no reliable rowcount for a skipped conflict
    return conn.execute(statement.returning(table.c[conflict[0]])).first() is not None


def migrate(engine: Engine, cipher: FieldCipher | None = None, revision: str = "head") -> None:
    """Bring the schema to the newest revision; safe to call from several processes at once.

    Migrations that encrypt existing rows use `cipher` (default: built from `Settings()`).
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if cipher is not None:
        config.attributes["cipher"] = cipher
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:  # batch mode rebuilds a table by dropping it, which would cascade to every row referencing it
            _sqlite_pragma(connection, "foreign_keys=OFF")
        try:
            with connection.begin():
                if connection.dialect.name == "postgresql":
                    connection.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK_ID})
                config.attributes["connection"] = connection
                command.upgrade(config, revision)
                if sqlite and (broken := connection.exec_driver_sql("PRAGMA foreign_key_check").first()):
                    raise RuntimeError(f"a migration left a row in {broken[0]} pointing at nothing; rolled back")
        finally:
            if sqlite:
                _sqlite_pragma(connection, "foreign_keys=ON")
    log.info("database schema is up to date (%s)", engine.dialect.name)


def _sqlite_pragma(connection: sa.Connection, pragma: str) -> None:
    """Outside any transaction, where SQLite honours it (the driver runs in autocommit mode, see above)."""
    connection.connection.driver_connection.execute(f"PRAGMA {pragma}")
