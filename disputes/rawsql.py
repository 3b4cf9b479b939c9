"""Hand-written SELECTs whose rows become model instances, for the pages read most.

Building a query with the ORM (compiling the QuerySet to SQL) costs more than running it
against an index: on the event page it was most of the time spent outside the template. The
step panel's queries are therefore written out once, as SQL text, and their rows turned into
the same model instances the ORM would give, related objects attached as select_related
attaches them. Column lists come from the models, so a new field is read without touching
the SQL; the database's own value converters are applied, as the ORM applies them.
"""

from __future__ import annotations

from django.db import connection
from django.db.models.base import DEFERRED


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
        self.attnames = {f.attname for f in self.fields}
        self.pk_index = next(i for i, f in enumerate(self.fields) if f.primary_key)
        self._converters = {}

    def columns(self) -> str:
        quote = connection.ops.quote_name
        return ", ".join(f"{self.alias}.{quote(f.column)}" for f in self.fields)

    def converters(self):
        """[(index, [converter, ...])] for the columns whose raw value the backend converts."""
        vendor = connection.vendor
        found = self._converters.get(vendor)
        if found is None:
            found = []
            for i, field in enumerate(self.fields):
                expression = field.get_col(self.alias)
                functions = connection.ops.get_db_converters(
                    expression
                ) + expression.get_db_converters(connection)
                if functions:
                    found.append((i, functions, expression))
            self._converters[vendor] = found
        return found

    def build(self, values):
        if values[self.pk_index] is None:
            return None
        if self._converters.get(connection.vendor, True):
            values = list(values)
            for i, functions, expression in self.converters():
                for function in functions:
                    values[i] = function(values[i], expression, connection)
        if self.complete:
            return self.model.from_db(connection.alias, None, values)
        it = iter(values)
        full = [
            next(it) if f.attname in self.attnames else DEFERRED
            for f in self.model._meta.concrete_fields
        ]
        return self.model.from_db(connection.alias, None, full)


class Select:
    """A hand-written SELECT over `parts` (each a Part, in column order) followed by
    `extra` plain columns. `sql` is a function of the column list, so the statement is
    written once with the models' columns in place; rows() gives, per row, a list of the
    parts' instances followed by the extra values."""

    def __init__(self, parts: list[Part], sql, extra: int = 0):
        self.parts = parts
        self.extra = extra
        self._sql = sql
        self._text = {}

    def text(self) -> str:
        vendor = connection.vendor
        text = self._text.get(vendor)
        if text is None:
            text = self._text[vendor] = self._sql(", ".join(p.columns() for p in self.parts))
        return text

    def rows(self, params) -> list[list]:
        with connection.cursor() as cursor:
            cursor.execute(self.text(), params)
            raw = cursor.fetchall()
        # The converters are worked out before the first row is built (build() skips them
        # only once it knows there are none).
        for part in self.parts:
            part.converters()
        spans = []
        at = 0
        for part in self.parts:
            spans.append((part, at, at + len(part.fields)))
            at += len(part.fields)
        out = []
        for row in raw:
            built = [part.build(row[start:end]) for part, start, end in spans]
            built.extend(row[at:])
            out.append(built)
        return out


def attach(instance, name: str, related) -> None:
    """Fill the cache of the forward relation `name`, as select_related does."""
    if instance is not None:
        type(instance)._meta.get_field(name).set_cached_value(instance, related)
