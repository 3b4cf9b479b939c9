"""Hand-written SELECTs whose rows become model instances, for the pages read most.

Building a query with the ORM (compiling the QuerySet to SQL) costs more than running it
against an index: on the event page it was most of the time spent outside the template. The
step panel's queries are therefore written out once, as SQL text, and their rows turned into
the same model instances the ORM would give, related objects attached as select_related
attaches them. Column lists come from the models, so a new field is read without touching
the SQL; the database's own value converters are applied, as the ORM applies them.
"""

from __future__ import annotations

import hashlib
import re
from contextlib import contextmanager

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models.base import DEFERRED, ModelState
from django.db.models.signals import post_init, pre_init


class Part:
    """One model's columns in a row: `model` read from table alias `alias`, all its concrete
    fields or only those named in `only`. A part whose primary key is NULL (the far side of
    a LEFT JOIN that matched nothing) reads as None."""

    def __init__(self, model, alias: str, only: tuple[str, ...] | None = None):
        self.model = model
        self.alias = alias
        fields = model._meta.concrete_fields
        self.fields = [f for f in fields if only is None or f.attname in only or f.primary_key]
        self.complete = len(self.fields) == len(fields)
        self.attnames = tuple(f.attname for f in self.fields)
        self.pk_index = next(i for i, f in enumerate(self.fields) if f.primary_key)
        self._converters = {}

    def columns(self) -> str:
        quote = connection.ops.quote_name
        return ", ".join(f"{self.alias}.{quote(f.column)}" for f in self.fields)

    def converters(self, conn):
        """[(index, [converter, ...], expression)] for the columns whose raw value the
        backend converts, worked out once per database vendor."""
        found = self._converters.get(conn.vendor)
        if found is None:
            found = []
            for i, field in enumerate(self.fields):
                expression = field.get_col(self.alias)
                functions = conn.ops.get_db_converters(expression) + expression.get_db_converters(
                    conn
                )
                if functions:
                    found.append((i, functions, expression))
            self._converters[conn.vendor] = found
        return found

    def builder(self, conn):
        """A function from this part's slice of a row (and the connection that read it) to
        its instance, or None; worked out once per database vendor.

        An instance is made as Model.from_db makes it, but by filling its __dict__ instead
        of calling Model.__init__, which sets each field through setattr and sends two
        signals: a step panel builds dozens of instances, and __init__ was a tenth of its
        time. A model that has pre_init or post_init receivers when the statement is first
        run (or a part that leaves fields unread) takes the ordinary way, so nothing that
        listens misses an instance.
        """
        model = self.model
        converters = self.converters(conn)
        pk_index, attnames = self.pk_index, self.attnames
        plain = (
            self.complete
            and not pre_init.has_listeners(model)
            and not post_init.has_listeners(model)
        )
        concrete = model._meta.concrete_fields

        def build(values, conn):
            if values[pk_index] is None:
                return None
            if converters:
                values = list(values)
                for i, functions, expression in converters:
                    for function in functions:
                        values[i] = function(values[i], expression, conn)
            if plain:
                instance = model.__new__(model)
                state = ModelState()
                state.adding = False
                state.db = conn.alias
                instance.__dict__.update(zip(attnames, values, strict=True))
                instance._state = state
                return instance
            if self.complete:
                return model.from_db(conn.alias, None, values)
            given = dict(zip(attnames, values, strict=True))
            full = [given.get(f.attname, DEFERRED) for f in concrete]
            return model.from_db(conn.alias, None, full)

        return build


class Select:
    """A hand-written SELECT over `parts` (each a Part, in column order) followed by
    `extra` plain columns. `sql` is a function of the column list, so the statement is
    written once with the models' columns in place; rows() gives, per row, a list of the
    parts' instances followed by the extra values."""

    def __init__(self, parts: list[Part], sql, extra: int = 0):
        self.parts = parts
        self.extra = extra
        self._sql = sql
        self._prepared = {}

    def _for(self, conn):
        """(SQL text, [(build, start, end)], where the extra columns start), per vendor."""
        found = self._prepared.get(conn.vendor)
        if found is None:
            text = self._sql(", ".join(p.columns() for p in self.parts))
            spans, at = [], 0
            for part in self.parts:
                spans.append((part.builder(conn), at, at + len(part.fields)))
                at += len(part.fields)
            found = self._prepared[conn.vendor] = (text, spans, at)
        return found

    def text(self) -> str:
        return self._for(connections[DEFAULT_DB_ALIAS])[0]

    def rows(self, params) -> list[list]:
        return self.send(params)()

    def send(self, params):
        """Send the statement now and return a function that gives its rows(): inside
        pipeline(), the statements sent go to the server together, and the first rows asked
        for wait for them all."""
        # The connection itself, looked up once: each attribute read through the
        # django.db.connection proxy costs a thread-local look-up.
        conn = connections[DEFAULT_DB_ALIAS]
        text, spans, at = self._for(conn)
        batch = getattr(conn, "_rawsql_batch", None)
        if (
            batch is not None
            and not conn.in_atomic_block
            and all(type(param) is int for param in params)
        ):
            fetch = batch.add(text, params)
        else:
            if batch is not None:
                batch.run()  # what was sent before this runs before it, as in pipeline mode
            cursor = conn.cursor()
            try:
                cursor.execute(text, params)
            except BaseException:
                cursor.close()
                raise

            def fetch():
                with cursor:
                    return cursor.fetchall()

        def rows() -> list[list]:
            out = []
            for row in fetch():
                built = [build(row[start:end], conn) for build, start, end in spans]
                built.extend(row[at:])
                out.append(built)
            return out

        return rows


@contextmanager
def pipeline():
    """On PostgreSQL, the statements sent inside (Select.send) go to the server together,
    one round trip for all instead of one each (each round trip costs the server and the
    worker a wake-up and a few system calls, more than a small indexed read itself), and the
    first rows asked for wait for them all. Elsewhere, statements run one by one as usual.
    Errors are Django's database errors, as outside.

    Outside a transaction (every public page), with prepared statements on, they go as one
    message of EXECUTEs of statements prepared on the connection (_Batch): psycopg's
    per-statement work, on the client, was a fifth of what an event page cost. Inside a
    transaction, or without prepared statements (DATABASE_PREPARED_STATEMENTS=0), they go
    through psycopg's pipeline mode, one protocol message each but still one round trip."""
    conn = connections[DEFAULT_DB_ALIAS]
    if conn.vendor != "postgresql" or getattr(conn, "_rawsql_batch", None) is not None:
        yield  # (a pipeline inside another joins it)
        return
    # Django's health check (a query of its own, when due) goes first, outside pipeline
    # mode, where it can still tell a dropped connection from a live one.
    conn.close_if_health_check_failed()
    conn.ensure_connection()
    raw = conn.connection
    if (
        conn.in_atomic_block
        or not conn.get_autocommit()
        or raw.prepare_threshold is None
        or getattr(raw, "_rawsql_unbatched", False)
    ):
        with conn.wrap_database_errors, raw.pipeline():
            yield
        return
    batch = conn._rawsql_batch = _Batch(conn)
    try:
        yield
    finally:
        conn._rawsql_batch = None
    batch.run()


# A statement that the connection's session no longer holds (a pooler's DISCARD ALL, or
# psycopg's own DEALLOCATE ALL after a rollback), or holds when we did not know it did.
_STALE_SQLSTATES = ("26000", "42P05")
_PREPARED_PREFIX = "rawsql_"
_NAMES: dict[str, tuple[str, str]] = {}


def _prepared_form(text: str) -> tuple[str, str]:
    """(name, text with $1, $2, ... for Django's %s) of a statement: the name is the text's
    digest, so a connection never holds two texts under one name."""
    found = _NAMES.get(text)
    if found is None:
        count = 0

        def number(match):
            nonlocal count
            if match.group(1) == "%":
                return "%"
            count += 1
            return f"${count}"

        digest = hashlib.blake2b(text.encode(), digest_size=8).hexdigest()
        found = _NAMES[text] = (_PREPARED_PREFIX + digest, re.sub(r"%([s%])", number, text))
    return found


def _stale(exc: BaseException) -> bool:
    return getattr(exc.__cause__, "sqlstate", None) in _STALE_SQLSTATES


class _Batch:
    """Statements sent to PostgreSQL as one simple-protocol message: a PREPARE for each
    statement the session does not hold yet, then an EXECUTE of each with its parameters
    written in (integers only, checked by Select.send), results read in order. The server
    runs them one after the other on its cached plans, as it runs protocol-level prepared
    statements, and the worker waits once. PREPARE works out each parameter's type from
    where it stands in the statement (a bare parameter needs a CAST).

    Which statements the session holds is kept on the psycopg connection (a new connection
    holds none). PREPARE is not undone by a rollback, and nothing tells us when something
    else deallocates: psycopg does after any rollback while it holds prepared statements
    of its own (the next batch then costs two more round trips), a pooler may between
    clients. When a batch fails because a statement is missing, or already there, the list
    is read again from the server and the batch sent once more. That only happens outside
    a transaction (pipeline() sees to it), so the failed message leaves nothing behind to
    roll back. If the second try fails the same way, the session changes under the
    connection (a pooler in transaction mode hands each message to another server
    connection): the statements run one by one, and the connection uses psycopg's pipeline
    mode from then on."""

    def __init__(self, conn):
        self.conn = conn
        self.pending = []

    def add(self, text: str, params) -> callable:
        """Queue a statement; returns a function giving its rows (running the batch if it
        has not run yet, and raising its error if it failed)."""
        slot = []
        self.pending.append((text, params, slot))

        def fetch():
            if not slot:
                self.run()
            if isinstance(slot[0], BaseException):
                raise slot[0]
            return slot[0]

        return fetch

    def run(self) -> None:
        pending, self.pending = self.pending, []
        if not pending:
            return
        try:
            results = self._sent_twice(pending)
        except Exception as exc:
            for _text, _params, slot in pending:
                slot.append(exc)
            raise
        for (_text, _params, slot), rows in zip(pending, results, strict=True):
            slot.append(rows)

    def _sent_twice(self, pending) -> list[list[tuple]]:
        for attempt in (1, 2):
            try:
                return self._send(pending)
            except Exception as exc:
                self._forget()
                if not _stale(exc):
                    raise
                if attempt == 2:
                    self.conn.connection._rawsql_unbatched = True
        return self._one_by_one(pending)

    def _send(self, pending) -> list[list[tuple]]:
        held = self._held()
        prepares, executes, new = [], [], []
        for text, params, _slot in pending:
            name, numbered = _prepared_form(text)
            if name not in held and name not in new:
                prepares.append(f"PREPARE {name} AS {numbered}")
                new.append(name)
            args = f"({', '.join(str(param) for param in params)})" if params else ""
            executes.append(f"EXECUTE {name}{args}")
        with self.conn.cursor() as cursor:
            cursor.execute("; ".join([*prepares, *executes]))
            for _ in prepares:
                cursor.nextset()
            results = []
            for _ in executes:
                results.append(cursor.fetchall())
                cursor.nextset()
        held.update(new)
        return results

    def _one_by_one(self, pending) -> list[list[tuple]]:
        results = []
        for text, params, _slot in pending:
            with self.conn.cursor() as cursor:
                cursor.execute(text, params)
                results.append(cursor.fetchall())
        return results

    def _held(self) -> set[str]:
        """The statements the session holds: none on a new connection; after a failure,
        read from the server (the PREPAREs before the failure took effect, and those after
        it did not)."""
        raw = self.conn.connection
        if not hasattr(raw, "_rawsql_prepared"):
            raw._rawsql_prepared = set()
        elif raw._rawsql_prepared is None:
            with self.conn.cursor() as cursor:
                cursor.execute(
                    "SELECT name FROM pg_prepared_statements WHERE starts_with(name, %s)",
                    [_PREPARED_PREFIX],
                )
                raw._rawsql_prepared = {name for (name,) in cursor.fetchall()}
        return raw._rawsql_prepared

    def _forget(self) -> None:
        raw = self.conn.connection
        if raw is not None:
            raw._rawsql_prepared = None


def attach(instance, name: str, related) -> None:
    """Fill the cache of the forward relation `name`, as select_related does."""
    if instance is not None:
        type(instance)._meta.get_field(name).set_cached_value(instance, related)
