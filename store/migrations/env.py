"""Alembic environment: runs on the connection store.db.migrate hands it (or on alembic.ini's URL)."""

from __future__ import annotations

from alembic import context

from store.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # `alembic` on the command line: build an engine from settings
    from config import Settings
    from store.db import create_engine

    with create_engine(Settings().sqlalchemy_url).begin() as connection:
        context.configure(connection=connection, target_metadata=metadata)
        context.run_migrations()
else:
    context.configure(connection=connection, target_metadata=metadata)
    context.run_migrations()
