"""The whole database as text, the way someone holding a copy of it would see it."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from store.tables import metadata


def database_text(engine: Engine) -> str:
    """Every row of every table (including any the code forgot), one line each."""
    with engine.connect() as conn:
        names = sa.inspect(conn).get_table_names()
        lines = []
        for name in names:
            table = metadata.tables.get(name)
            if table is None:  # not described in store/tables.py: read it as the database has it
                table = sa.Table(name, sa.MetaData(), autoload_with=conn)
            lines += [f"{name}: {tuple(row)}" for row in conn.execute(sa.select(table))]
    return "\n".join(lines)
