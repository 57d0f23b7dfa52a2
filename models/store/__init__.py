"""The store: engine and sessions, tables, triggers, migrations, and the queries per
aggregate. The only package under models/ that issues SQL."""
