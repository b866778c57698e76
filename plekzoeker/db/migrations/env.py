"""Alembic environment: runs the migrations on the connection plekzoeker hands it."""
from alembic import context

from plekzoeker.db.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connectable = config.attributes.get("connection")
    if connectable is None:
        from plekzoeker.db.engine import get_engine

        with get_engine().connect() as connection:
            _run(connection)
            connection.commit()
    else:
        _run(connectable)


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, version_table_schema="meta",
                      include_schemas=True)
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
