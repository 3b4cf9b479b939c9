"""GIN indexes for full-text search on PostgreSQL (SQLite has no equivalent; it searches by
substring).

Each index is on the weighted document that disputes/search.py matches against, written
the same way, so that PostgreSQL answers a search from the index instead of building every
row's document. A test (tests/test_search.py) proves the planner uses each one.

A source's text is long, and ranking would build its document again for every match, so a
source keeps its document in a generated column (search_document, computed by PostgreSQL
on every write; the model does not list it, since SQLite has nothing like it). The text is
indexed up to its first SOURCE_TEXT_LIMIT characters: a tsvector holds at most 1 MB, and a
document that could not hold a long source would refuse to save it.
"""

from django.db import migrations

SOURCE_TEXT_LIMIT = 250_000


def _weighted(columns: list[str]) -> str:
    parts = []
    for i, column in enumerate(columns):
        parts.append(
            f"setweight(to_tsvector('english'::regconfig, COALESCE({column}, '')), "
            f"'{'A' if i == 0 else 'B'}')"
        )
    return " || ".join(parts)


INDEXES = {
    "disputes_event_search": ("disputes_event", ["title", "summary"]),
    "disputes_person_search": ("disputes_person", ["name", "description"]),
    "disputes_case_search": ("disputes_case", ["title", "charges", "court", "sentence"]),
}
SOURCE_DOCUMENT = _weighted(["title", "publisher", f"left(text, {SOURCE_TEXT_LIMIT})"])


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, (table, columns) in INDEXES.items():
        schema_editor.execute(f"CREATE INDEX {name} ON {table} USING gin (({_weighted(columns)}))")
    schema_editor.execute(
        "ALTER TABLE disputes_source ADD COLUMN search_document tsvector"
        f" GENERATED ALWAYS AS ({SOURCE_DOCUMENT}) STORED"
    )
    schema_editor.execute(
        "CREATE INDEX disputes_source_search ON disputes_source USING gin (search_document)"
    )


def backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in [*INDEXES, "disputes_source_search"]:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
    schema_editor.execute("ALTER TABLE disputes_source DROP COLUMN IF EXISTS search_document")


class Migration(migrations.Migration):
    dependencies = [("disputes", "0009_sentence_position_index")]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
