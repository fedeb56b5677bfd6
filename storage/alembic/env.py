"""Shared Alembic environment: the engine and version table come from `storage.migrate`."""

from alembic import context

cfg = context.config
engine = cfg.attributes["engine"]
with engine.connect() as connection:
    context.configure(connection=connection, version_table=cfg.attributes["version_table"],
                      render_as_batch=engine.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
