"""Hand-written SELECTs whose rows become model instances, for the pages read most.

Building a query with the ORM (compiling the QuerySet to SQL) costs more than running it
against an index: on the event page it was most of the time spent outside the template. The
step panel's queries are therefore written out once, as SQL text, and their rows turned into
the same model instances the ORM would give, related objects attached as select_related
attaches them. Column lists come from the models, so a new field is read without touching
the SQL; the database's own value converters are applied, as the ORM applies them.
"""

from __future__ import annotations

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
        cursor = conn.cursor()
        try:
            cursor.execute(text, params)
        except BaseException:
            cursor.close()
            raise

        def rows() -> list[list]:
            with cursor:
                raw = cursor.fetchall()
            out = []
            for row in raw:
                built = [build(row[start:end], conn) for build, start, end in spans]
                built.extend(row[at:])
                out.append(built)
            return out

        return rows


@contextmanager
def pipeline():
    """On PostgreSQL, psycopg's pipeline mode: the statements sent inside (Select.send) go
    to the server without waiting for each other's answers, one round trip for all instead
    of one each (each round trip costs the server and the worker a wake-up and a few
    system calls, more than a small indexed read itself). Elsewhere, statements run one by
    one as usual. Errors are Django's database errors, as outside."""
    conn = connections[DEFAULT_DB_ALIAS]
    if conn.vendor != "postgresql":
        yield
        return
    # Django's health check (a query of its own, when due) goes first, outside pipeline
    # mode, where it can still tell a dropped connection from a live one.
    conn.close_if_health_check_failed()
    conn.ensure_connection()
    with conn.wrap_database_errors, conn.connection.pipeline():
        yield


def attach(instance, name: str, related) -> None:
    """Fill the cache of the forward relation `name`, as select_related does."""
    if instance is not None:
        type(instance)._meta.get_field(name).set_cached_value(instance, related)
