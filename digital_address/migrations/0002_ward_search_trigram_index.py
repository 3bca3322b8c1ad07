"""A trigram index for the ward search on PostgreSQL.

The search matches words anywhere in ``search_name`` (the name folded in Python: no diacritics,
đ → d, lower case) with ``LIKE '%word%'``, which a B-tree index cannot serve; pg_trgm's GIN index
can. SQLite has no such index and scans its few thousand rows. Creating the extension needs a
role allowed to (the database owner on PostgreSQL 13+ for this trusted extension)."""

from django.db import migrations

INDEX = "digital_address_ward_search_trgm"


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON digital_address_ward "
        "USING gin (search_name gin_trgm_ops)"
    )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("digital_address", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
