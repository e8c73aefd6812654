"""Policy: data is shared with Supabase as a database service only, not with the world through its REST API."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from store.db import create_engine, migrate, normalise_url
from tests.conftest import POSTGRES_URL, postgres_available, require


def test_row_level_security_is_on_for_every_table_on_postgres(postgres_schema_url):
    """Supabase serves `public` tables through its REST API to anyone with the anon key unless RLS is on."""
    from store.tables import metadata

    engine = create_engine(postgres_schema_url)
    migrate(engine)
    with engine.connect() as conn:
        enabled = dict(conn.execute(sa.text(
            "SELECT relname, relrowsecurity FROM pg_class WHERE relkind = 'r' "
            "AND relnamespace = current_schema()::regnamespace"
        )).all())
    assert set(enabled) == {*metadata.tables, "alembic_version"}
    assert all(enabled.values()), [name for name, on in enabled.items() if not on]


# ------------------------------------------------------------------ by behaviour, as Supabase's `anon` role

API_PRIVILEGES = "SELECT, INSERT, UPDATE, DELETE"  # among GRANT ALL's; what PostgREST serves as GET/POST/PATCH/DELETE
INSUFFICIENT_PRIVILEGE = "42501"  # permission denied, and "new row violates row-level security policy"


@pytest.fixture
def supabase_like_schema() -> Iterator[tuple[sa.Engine, str]]:
    """A fresh schema with the app's tables, and a role like Supabase's `anon` holding Supabase's default grants.

    Supabase gives `anon` (the REST API's role for anyone holding the public anon key) USAGE on `public`
    and ALL on every table and sequence in it; only row-level security stands between it and the rows.
    Roles are cluster-wide, so this one has a name of its own and is dropped afterwards.
    """
    require(postgres_available(), f"PostgreSQL at {POSTGRES_URL}")
    suffix = uuid.uuid4().hex[:10]
    schema, role = f"t_anon_{suffix}", f"anon_{suffix}"
    admin = sa.create_engine(normalise_url(POSTGRES_URL))
    with admin.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
        conn.execute(sa.text(f"CREATE ROLE {role} NOLOGIN NOINHERIT"))
    engine = create_engine(f"{POSTGRES_URL}?options=-csearch_path%3D{schema}")
    try:
        migrate(engine)
        with engine.begin() as conn:
            conn.execute(sa.text(f"GRANT USAGE ON SCHEMA {schema} TO {role}"))
            conn.execute(sa.text(f"GRANT ALL ON ALL TABLES IN SCHEMA {schema} TO {role}"))
            conn.execute(sa.text(f"GRANT ALL ON ALL SEQUENCES IN SCHEMA {schema} TO {role}"))
            conn.execute(sa.text(f"GRANT ALL ON ALL FUNCTIONS IN SCHEMA {schema} TO {role}"))
        yield engine, role
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            conn.execute(sa.text(f"DROP OWNED BY {role}"))
            conn.execute(sa.text(f"DROP ROLE {role}"))
        admin.dispose()


def made_up_row(table: sa.Table, parents: dict[str, dict], tag: str) -> dict:
    """Values for every required column, by its type; a foreign key takes the referenced row's value."""
    row = {}
    for column in table.columns:
        if column.nullable or column.server_default is not None:
            continue
        foreign = next(iter(column.foreign_keys), None)
        if foreign is not None:
            row[column.name] = parents[foreign.column.table.name][foreign.column.name]
            continue
        kind = column.type.python_type
        if kind is str:
            row[column.name] = f"{tag}-{uuid.uuid4().hex}"[: getattr(column.type, "length", None) or 64]
        elif kind is bool:
            row[column.name] = True
        elif kind in (int, float):
            row[column.name] = kind(1)  # satisfies the credit checks: 0 <= reserved <= balance, debt >= 0
        elif kind is datetime:
            row[column.name] = datetime.now(UTC)
        else:
            raise AssertionError(f"no made-up value for {table.name}.{column.name} ({column.type}); add one here")
    return row


def attempt(conn: sa.Connection, statement) -> tuple[int | None, str | None]:
    """(rows affected, None) when the statement ran; (None, SQLSTATE) when the database refused it."""
    try:
        return conn.execute(statement).rowcount, None
    except sa.exc.DBAPIError as refused:
        return None, refused.orig.sqlstate


def as_role(conn: sa.Connection, role: str) -> None:
    """Act as `role` for the rest of this transaction (a superuser bypasses RLS; after SET ROLE it applies)."""
    conn.execute(sa.text(f"SET LOCAL ROLE {role}"))


def test_supabase_anon_role_reads_and_changes_nothing_in_any_table(supabase_like_schema):
    """The promise by behaviour: with Supabase's default grants, `anon` sees no row and changes none.

    The tables come from the live schema, so a table added later is covered without touching this test.
    """
    from store.tables import metadata as app_metadata

    engine, role = supabase_like_schema
    live = sa.MetaData()
    live.reflect(engine)
    tables = live.sorted_tables  # parents first
    assert {t.name for t in tables} >= {*app_metadata.tables, "alembic_version"}

    # one row in every table, written as the owner
    rows: dict[str, dict] = {}
    with engine.begin() as conn:
        for table in tables:
            if conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one() == 0:
                conn.execute(table.insert().values(made_up_row(table, rows, "owner")))
            rows[table.name] = conn.execute(sa.select(table).limit(1)).mappings().one()
    with engine.connect() as conn:
        before = {t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one() for t in tables}
        granted = {t.name: conn.execute(sa.text("SELECT has_table_privilege(:role, :table, :privileges)"),
                                        {"role": role, "table": t.name,
                                         "privileges": API_PRIVILEGES}).scalar_one() for t in tables}
    assert all(count >= 1 for count in before.values()), before
    assert all(granted.values()), f"{role} lacks Supabase's grants on {[n for n, ok in granted.items() if not ok]}"

    for table in tables:
        # control: without row-level security this role would read the row (so 0 below is RLS, not a missing grant)
        with engine.connect() as conn, conn.begin() as transaction:
            conn.execute(sa.text(f"ALTER TABLE {table.name} DISABLE ROW LEVEL SECURITY"))
            as_role(conn, role)
            assert conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one() >= 1
            transaction.rollback()

        with engine.connect() as conn, conn.begin():
            as_role(conn, role)
            assert conn.execute(sa.select(table)).all() == [], f"anon reads {table.name}"

        with engine.connect() as conn, conn.begin():
            as_role(conn, role)
            changed, refused = attempt(conn, table.insert().values(made_up_row(table, rows, "anon")))
            assert refused == INSUFFICIENT_PRIVILEGE, f"anon inserting into {table.name}: {changed=} {refused=}"

        # no WHERE and no column read: only UPDATE and DELETE policies decide (a read would need SELECT's too)
        first = next(iter(table.columns)).name
        for statement in (table.update().values({first: rows[table.name][first]}), table.delete()):
            with engine.connect() as conn, conn.begin():
                as_role(conn, role)
                changed, refused = attempt(conn, statement)
                assert refused == INSUFFICIENT_PRIVILEGE or changed == 0, \
                    f"anon changed {changed} row(s) of {table.name} ({refused=}): {statement}"

    with engine.connect() as conn:
        after = {t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one() for t in tables}
        assert after == before
        for table in tables:  # and the rows are the ones written, unchanged
            assert conn.execute(sa.select(table).limit(1)).mappings().one() == rows[table.name]
