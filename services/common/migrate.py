"""Alembic migrations, one history per service, each in the service's own schema.

    python -m services.common.migrate                 # upgrade every service to head
    python -m services.common.migrate upgrade ideas   # one service
    python -m services.common.migrate revision ideas "add flags"   # autogenerate a revision
"""
from __future__ import annotations

import importlib
import sys
import uuid
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, text

from services.common.config import settings
from services.common.db import sqlalchemy_url

ROOT = Path(__file__).resolve().parents[1]


def services_with_migrations() -> list[str]:
    """Services in dependency-free order (accounts first), discovered from the tree."""
    names = sorted(p.parent.parent.name for p in ROOT.glob("*/migrations/env.py"))
    return sorted(names, key=lambda n: (n != "accounts", n))


def alembic_config(service: str, url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(ROOT / service / "migrations"))
    cfg.set_main_option("sqlalchemy.url", sqlalchemy_url(url or settings().database_url).replace("%", "%%"))
    cfg.attributes["service"] = service
    return cfg


def run_env(metadata) -> None:
    """The body of every service's migrations/env.py."""
    from alembic import context

    schema = metadata.schema
    url = context.config.get_main_option("sqlalchemy.url")
    connectable = create_engine(url)
    with connectable.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        connection.commit()
        context.configure(
            connection=connection,
            target_metadata=metadata,
            version_table_schema=schema,
            include_schemas=True,
            include_name=lambda name, type_, parent: type_ != "schema" or name == schema,
        )
        with context.begin_transaction():
            # Two migrating processes (replicas starting together) must not both run a revision.
            connection.execute(text("SELECT pg_advisory_xact_lock(hashtext(:s))"), {"s": f"migrate:{schema}"})
            context.run_migrations()
    connectable.dispose()


def ensure_database(url: str | None = None) -> None:
    """Create the database named in the URL when it does not exist yet."""
    url = sqlalchemy_url(url or settings().database_url)
    base, name = url.rsplit("/", 1)
    name = name.split("?", 1)[0]
    admin = create_engine(base + "/postgres", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first():
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()


def upgrade(services: list[str] | None = None, url: str | None = None) -> None:
    ensure_database(url)
    for service in services or services_with_migrations():
        importlib.import_module(f"services.{service}.models")
        command.upgrade(alembic_config(service, url), "head")


def revision(service: str, message: str) -> None:
    """Autogenerate a revision against a scratch database brought to head first."""
    base = sqlalchemy_url(settings().database_url)
    scratch = f"agora_rev_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{scratch}"'))
    url = base.rsplit("/", 1)[0] + "/" + scratch
    try:
        upgrade([service], url)
        command.revision(alembic_config(service, url), message=message, autogenerate=True)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))
        admin.dispose()


def main(argv: list[str]) -> None:
    if not argv or argv[0] == "upgrade":
        upgrade(argv[1:] or None)
        print("migrations applied:", ", ".join(argv[1:] or services_with_migrations()))
    elif argv[0] == "revision" and len(argv) == 3:
        revision(argv[1], argv[2])
    else:
        print(__doc__)
        sys.exit(2)


if __name__ == "__main__":
    main(sys.argv[1:])
