"""Policy: data is shared with Supabase as a database service only, not with the world through its REST API."""

from __future__ import annotations

import sqlalchemy as sa

from store.db import create_engine, migrate


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
