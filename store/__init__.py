"""The durable store: SQLAlchemy models, migrations, repositories and the unit of work."""
