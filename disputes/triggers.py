"""What the database keeps that Django cannot say in a constraint, written once for both
SQLite and PostgreSQL, and installed after every `migrate`.

- Rules that span two tables: a link's response is not dated before its cause (when the
  precision allows the comparison: see disputes/dates.py), and both ends of a link belong to
  one dispute, the one the link names. A check constraint sees one row; these are checked on the link (insert, or a
  change of its ends) and on the event (a change of its date or dispute). The models' clean()
  says the same to editors in words that say what to fix.
- The record's version (RecordVersion, read by the page cache in caching.py): any write to
  any of the record's tables gives it a new, random number in the same transaction, so that
  no write path (the admin, QuerySet.update(), bulk_create(), loaddata, raw SQL) can leave a
  stale page behind. Random rather than the old one plus one: a flushed or restored database
  can then never hand a number to a state of the record that differs from the one a page was
  cached under.

- Each cited record's `cited` column (models.CitedRecord): whether some citation supports
  it, recomputed when a citation of it is added, removed or moved, and when the record is
  written (whatever `cited` a fixture, an import or a stale form gives it). Citations name
  their record by content type, so the statements find the content type by name.
- On SQLite, search's full-text index: an FTS5 table over the search entries' four weighted
  fields (search_index.FIELDS), kept in step with them by triggers (PostgreSQL's
  equivalent is the stored `SearchEntry.document` with its GIN index: migration 0008).

The triggers are dropped before `migrate` and created again after it (pre_migrate and
post_migrate, apps.py): a migration never meets them (SQLite rebuilds a table to alter it,
which trips over triggers that name it), and a table a new model brings gets its trigger.
"""

from __future__ import annotations

PREFIX = "disputes_rule_"
VERSION_TABLE = "disputes_recordversion"

_LOW = "{t}.date_year * 10000 + COALESCE({t}.date_month, 0) * 100 + COALESCE({t}.date_day, 0)"
_HIGH = "{t}.date_year * 10000 + COALESCE({t}.date_month, 12) * 100 + COALESCE({t}.date_day, 31)"
BEFORE = "link_response_before_cause: the response is dated before its cause"
ACROSS = "link_across_disputes: both events of a link must belong to the same dispute"

# (table, columns whose change is checked (None: on insert), [(condition, message)])
RULES = [
    (
        "disputes_retaliationlink",
        ("cause_id", "response_id", "dispute_id"),
        [
            (
                "SELECT 1 FROM disputes_event c, disputes_event r"
                " WHERE c.id = NEW.cause_id AND r.id = NEW.response_id"
                f" AND {_HIGH.format(t='r')} < {_LOW.format(t='c')}",
                BEFORE,
            ),
            (
                "SELECT 1 FROM disputes_event c, disputes_event r"
                " WHERE c.id = NEW.cause_id AND r.id = NEW.response_id"
                " AND (c.dispute_id <> r.dispute_id OR c.dispute_id <> NEW.dispute_id)",
                ACROSS,
            ),
        ],
    ),
    (
        "disputes_event",
        ("date_year", "date_month", "date_day", "dispute_id"),
        [
            (
                "SELECT 1 FROM disputes_retaliationlink l JOIN disputes_event c ON c.id = l.cause_id"
                f" WHERE l.response_id = NEW.id AND c.id <> NEW.id"
                f" AND {_HIGH.format(t='NEW')} < {_LOW.format(t='c')}"
                " UNION ALL SELECT 1 FROM disputes_retaliationlink l"
                " JOIN disputes_event r ON r.id = l.response_id"
                f" WHERE l.cause_id = NEW.id AND r.id <> NEW.id"
                f" AND {_HIGH.format(t='r')} < {_LOW.format(t='NEW')}",
                BEFORE,
            ),
            (
                "SELECT 1 FROM disputes_retaliationlink l"
                " JOIN disputes_event c ON c.id = l.cause_id"
                " JOIN disputes_event r ON r.id = l.response_id"
                " WHERE (l.cause_id = NEW.id AND r.id <> NEW.id AND r.dispute_id <> NEW.dispute_id)"
                " OR (l.response_id = NEW.id AND c.id <> NEW.id AND c.dispute_id <> NEW.dispute_id)"
                " OR ((l.cause_id = NEW.id OR l.response_id = NEW.id)"
                " AND l.dispute_id <> NEW.dispute_id)",
                ACROSS,
            ),
        ],
    ),
]


def record_tables(app_config, connection) -> list[str]:
    """Every table of the record that the database holds: the app's models, their
    many-to-many tables and their edit history, but the version itself (after `migrate
    disputes zero`, none)."""
    tables = {model._meta.db_table for model in app_config.get_models(include_auto_created=True)}
    return sorted(tables & set(connection.introspection.table_names()) - {VERSION_TABLE})


def _rules(tables: list[str]):
    return RULES if {"disputes_event", "disputes_retaliationlink"} <= set(tables) else []


def _fulltext(tables: list[str]) -> list[tuple[str, list[str]]]:
    from .models import SearchEntry
    from .search_index import FIELDS

    table = SearchEntry._meta.db_table
    return [(table, list(FIELDS))] if table in tables else []


def _create_fulltext(cursor, tables: list[str]) -> None:
    """The FTS5 table of search on SQLite, filled from its table (from then on its triggers
    keep it in step). Its words are search_index.tokens()'s, already folded and spaced, so
    the default tokenizer cuts them exactly as PostgreSQL's 'simple' configuration does.
    The last word of a query is a prefix (search as you type): prefix indexes for 3 to 8
    letters give it one doclist to rank instead of one per word it begins (2-3x faster at
    100,000 events, for an index half as large again)."""
    for table, columns in _fulltext(tables):
        fts = f"{table}_fts"
        cursor.execute(
            f"CREATE VIRTUAL TABLE {fts} USING fts5({', '.join(columns)},"
            f" content='{table}', content_rowid='id', prefix='3 4 5 6 7 8')"
        )
        cursor.execute(f"INSERT INTO {fts} ({fts}) VALUES ('rebuild')")


CITATION_TABLE = "disputes_citation"


def _cited_models(app_config, tables: list[str]) -> list:
    """The models whose rows keep `cited` (their edit history copies it as it was)."""
    from .models import CitedRecord

    if CITATION_TABLE not in tables:
        return []
    return [
        model
        for model in app_config.get_models()
        if issubclass(model, CitedRecord) and model._meta.db_table in tables
    ]


def _type_id(model) -> str:
    """SQL: the id of `model`'s content type, looked up by name (a database may number
    content types anew)."""
    return (
        f"(SELECT id FROM django_content_type WHERE app_label = '{model._meta.app_label}'"
        f" AND model = '{model._meta.model_name}')"
    )


def _is_cited(model, object_id: str) -> str:
    """SQL: whether a citation supports the row of `model` with id `object_id`."""
    return (
        f"EXISTS (SELECT 1 FROM {CITATION_TABLE} WHERE content_type_id = {_type_id(model)}"
        f" AND object_id = {object_id})"
    )


def _recite(cited_models, row: str) -> list[str]:
    """SQL: set `cited` afresh on the record that the citation `row` (NEW or OLD) names."""
    return [
        f"UPDATE {model._meta.db_table} SET cited = {_is_cited(model, f'{row}.object_id')}"
        f" WHERE id = {row}.object_id AND {row}.content_type_id = {_type_id(model)}"
        for model in cited_models
    ]


def _sqlite(tables: list[str], cited_models: list) -> list[str]:
    statements = []
    for event, rows in (
        ("INSERT", ["NEW"]),
        ("DELETE", ["OLD"]),
        ("UPDATE OF content_type_id, object_id", ["OLD", "NEW"]),
    ):
        if cited_models:
            body = "; ".join(s for row in rows for s in _recite(cited_models, row))
            statements.append(
                f"CREATE TRIGGER {PREFIX}cited_{event.split()[0].lower()}"
                f" AFTER {event} ON {CITATION_TABLE} BEGIN {body}; END"
            )
    for model in cited_models:
        table, is_cited = model._meta.db_table, _is_cited(model, "NEW.id")
        # (recursive triggers are off: the UPDATE below does not fire its own trigger again)
        for event in ("INSERT", "UPDATE OF cited"):
            statements.append(
                f"CREATE TRIGGER {PREFIX}{table}_cited_{event.split()[0].lower()}"
                f" AFTER {event} ON {table} WHEN NEW.cited IS NOT {is_cited}"
                f" BEGIN UPDATE {table} SET cited = {is_cited} WHERE id = NEW.id; END"
            )
    for table, columns, checks in _rules(tables):
        for event, when in (("INSERT", "INSERT"), ("UPDATE", f"UPDATE OF {', '.join(columns)}")):
            if table == "disputes_event" and event == "INSERT":
                continue  # a new event has no links yet
            for i, (condition, message) in enumerate(checks):
                statements.append(
                    f"CREATE TRIGGER {PREFIX}{table}_{event.lower()}_{i} BEFORE {when} ON {table}"
                    f" WHEN EXISTS ({condition}) BEGIN SELECT RAISE(ABORT, '{message}'); END"
                )
    for table, columns in _fulltext(tables):
        fts, new, old = (
            f"{table}_fts",
            ", ".join(f"new.{c}" for c in columns),
            ", ".join(f"old.{c}" for c in columns),
        )
        names = ", ".join(columns)
        remove_old = f"INSERT INTO {fts} ({fts}, rowid, {names}) VALUES ('delete', old.id, {old})"
        add_new = f"INSERT INTO {fts} (rowid, {names}) VALUES (new.id, {new})"
        statements += [
            f"CREATE TRIGGER {PREFIX}{fts}_insert AFTER INSERT ON {table} BEGIN {add_new}; END",
            f"CREATE TRIGGER {PREFIX}{fts}_delete AFTER DELETE ON {table} BEGIN {remove_old}; END",
            f"CREATE TRIGGER {PREFIX}{fts}_update AFTER UPDATE ON {table}"
            f" BEGIN {remove_old}; {add_new}; END",
        ]
    bump = (
        f"INSERT OR REPLACE INTO {VERSION_TABLE} (id, version)"
        " VALUES (1, abs(random() % 4611686018427387903) + 1)"
    )
    for table in tables:
        for event in ("INSERT", "UPDATE", "DELETE"):
            statements.append(
                f"CREATE TRIGGER {PREFIX}{table}_version_{event.lower()} AFTER {event} ON {table}"
                f" BEGIN {bump}; END"
            )
    return statements


def _postgresql(tables: list[str], cited_models: list) -> list[str]:
    statements = []
    if cited_models:
        # Once a statement, over the citations it wrote (transition tables): a bulk insert
        # of 100,000 citations is one UPDATE per kind of record, not 100,000 trigger calls.
        for event, rows in (
            ("INSERT", ["added"]),
            ("DELETE", ["gone"]),
            ("UPDATE", ["gone", "added"]),
        ):
            transition = " ".join(
                f"{'OLD' if row == 'gone' else 'NEW'} TABLE AS {row}" for row in rows
            )
            body = "; ".join(
                f"UPDATE {table} SET cited = {_is_cited(model, f'{table}.id')} WHERE id IN"
                f" (SELECT object_id FROM {row} WHERE content_type_id = {_type_id(model)})"
                for row in rows
                for model, table in ((m, m._meta.db_table) for m in cited_models)
            )
            name = f"{PREFIX}cited_{event.lower()}"
            statements += [
                f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger AS $$ BEGIN {body};"
                " RETURN NULL; END $$ LANGUAGE plpgsql",
                f"CREATE TRIGGER {name} AFTER {event} ON {CITATION_TABLE} REFERENCING {transition}"
                f" FOR EACH STATEMENT EXECUTE FUNCTION {name}()",
            ]
    for model in cited_models:
        table = model._meta.db_table
        statements += [
            f"CREATE OR REPLACE FUNCTION {PREFIX}{table}_cited() RETURNS trigger AS $$ BEGIN"
            f" NEW.cited := {_is_cited(model, 'NEW.id')}; RETURN NEW; END $$ LANGUAGE plpgsql",
            f"CREATE TRIGGER {PREFIX}cited BEFORE INSERT OR UPDATE OF cited ON {table}"
            f" FOR EACH ROW EXECUTE FUNCTION {PREFIX}{table}_cited()",
        ]
    for table, columns, checks in _rules(tables):
        raises = "".join(
            f" IF EXISTS ({condition}) THEN"
            f" RAISE EXCEPTION '{message}' USING ERRCODE = 'check_violation'; END IF;"
            for condition, message in checks
        )
        when = "INSERT OR UPDATE" if table != "disputes_event" else "UPDATE"
        statements += [
            f"CREATE OR REPLACE FUNCTION {PREFIX}{table}() RETURNS trigger AS $$"
            f" BEGIN{raises} RETURN NEW; END $$ LANGUAGE plpgsql",
            f"CREATE TRIGGER {PREFIX}{table} BEFORE {when} OF {', '.join(columns)} ON {table}"
            f" FOR EACH ROW EXECUTE FUNCTION {PREFIX}{table}()",
        ]
    statements.append(
        f"CREATE OR REPLACE FUNCTION {PREFIX}version() RETURNS trigger AS $$ BEGIN"
        f" INSERT INTO {VERSION_TABLE} (id, version)"
        " VALUES (1, floor(random() * 4611686018427387903)::bigint + 1)"
        " ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version;"
        " RETURN NULL; END $$ LANGUAGE plpgsql"
    )
    for table in tables:
        statements.append(
            f"CREATE TRIGGER {PREFIX}version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE"
            f" ON {table} FOR EACH STATEMENT EXECUTE FUNCTION {PREFIX}version()"
        )
    return statements


def _installed(cursor, vendor: str) -> list[str]:
    """DROP statements for what install() made (the FTS tables too: a table that migrate
    drops and makes again would leave its full-text index behind, out of step)."""
    if vendor == "sqlite":
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE %s",
            [PREFIX + "%"],
        )
        drops = [f"DROP TRIGGER {name}" for (name,) in cursor.fetchall()]
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE %s", ["%USING fts5(%"]
        )
        return drops + [f"DROP TABLE {name}" for (name,) in cursor.fetchall()]
    cursor.execute(
        "SELECT tgname, tgrelid::regclass::text FROM pg_trigger WHERE tgname LIKE %s",
        [PREFIX + "%"],
    )
    return [f"DROP TRIGGER {name} ON {table}" for name, table in cursor.fetchall()]


def remove(app_config, using="default", **kwargs) -> None:
    from django.db import connections

    connection = connections[using]
    if connection.vendor not in ("sqlite", "postgresql"):
        return
    with connection.cursor() as cursor:
        for statement in _installed(cursor, connection.vendor):
            cursor.execute(statement)


def install(app_config, using="default", **kwargs) -> None:
    from django.db import connections

    connection = connections[using]
    build = {"sqlite": _sqlite, "postgresql": _postgresql}.get(connection.vendor)
    if build is None:
        return
    remove(app_config, using)
    tables = record_tables(app_config, connection)
    if VERSION_TABLE not in connection.introspection.table_names():
        return
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            _create_fulltext(cursor, tables)
        for statement in build(tables, _cited_models(app_config, tables)):
            cursor.execute(statement)
