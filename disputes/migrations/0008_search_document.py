"""The search entries' weighted tsvector stored as a generated column (`document`), so that
PostgreSQL ranks a match by reading it instead of computing it again from the four texts
(for 300 matches a search, most of a search's time). The GIN index moves from 0005's
expression to the column. On SQLite the column is NULL and nothing else changes.
"""

import importlib

from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import migrations, models

from disputes.models import OnPostgreSQL

INDEX = "disputes_searchentry_document"
SEARCH_INDEX = importlib.import_module("disputes.migrations.0005_search_index")


def index_the_column(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")
    schema_editor.execute(f"CREATE INDEX {INDEX} ON disputes_searchentry USING gin (document)")


def index_the_expression(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")
    schema_editor.execute(
        f"CREATE INDEX {INDEX} ON disputes_searchentry USING gin (({SEARCH_INDEX.DOCUMENT}))"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("disputes", "0007_cited"),
    ]

    operations = [
        migrations.AddField(
            model_name="searchentry",
            name="document",
            field=models.GeneratedField(
                db_persist=True,
                expression=OnPostgreSQL(
                    SearchVector("title", config="simple", weight="A")
                    + SearchVector("names", config="simple", weight="B")
                    + SearchVector("quotes", config="simple", weight="C")
                    + SearchVector("body", config="simple", weight="D"),
                    output_field=SearchVectorField(),
                ),
                output_field=SearchVectorField(),
            ),
        ),
        migrations.RunPython(index_the_column, index_the_expression),
    ]
