"""Database layer: managed cluster, engine, migrations, COPY loading and atomic swaps."""
