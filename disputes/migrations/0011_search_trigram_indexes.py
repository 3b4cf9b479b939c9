"""Trigram indexes for search's words-within-words fallback on PostgreSQL.

When full-text search finds nothing (a name still being typed, a number), search.py looks
for each word inside every searchable field with icontains, which PostgreSQL writes as
UPPER(column::text) LIKE UPPER(pattern). Without an index that reads every row (at 100,000
events, every keystroke). These GIN indexes on the same expressions let PostgreSQL answer
from the index (pg_trgm). Detentions have none: their fields include their person's, in
another table, which no index of theirs can answer for. The extension is created if the database allows it; where it
does not (a role that may not create extensions), the migration makes no index, says so
and how to make them later, and search keeps working, only without these indexes.
"""

import sys

from django.db import DatabaseError, migrations, transaction

COLUMNS = {
    "disputes_event": ["title", "summary"],
    "disputes_person": ["name", "description"],
    "disputes_case": ["title", "charges", "court", "sentence"],
    "disputes_source": ["title", "publisher", "text"],
}


def _names():
    for table, columns in COLUMNS.items():
        for column in columns:
            yield table, column, f"{table}_{column}_trgm"


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic(using=schema_editor.connection.alias):
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            for table, column, name in _names():
                schema_editor.execute(
                    f"CREATE INDEX IF NOT EXISTS {name} ON {table}"
                    f" USING gin ((UPPER({column}::text)) gin_trgm_ops)"
                )
    except DatabaseError as exc:
        print(
            f"\n  The trigram indexes could not be made ({exc}); searching within words will"
            " read every row. Once a superuser has run CREATE EXTENSION pg_trgm (in a schema"
            " on the search path), make them with: manage.py migrate disputes 0010 &&"
            " manage.py migrate disputes",
            file=sys.stderr,
        )


def backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for _table, _column, name in _names():
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("disputes", "0010_search_indexes")]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
