"""Persistence: SQLAlchemy Core tables, the engine, and Alembic migrations.

SQLite by default (a file under ./data), PostgreSQL (Supabase in production) by DATABASE_URL.
"""
