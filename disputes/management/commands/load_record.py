"""Load a fixture as one all-or-nothing edit of the record, validating every object.

`loaddata` is atomic, but its errors are the database's: on PostgreSQL a three-letter
country code reads "value too long for type character varying(2)", naming neither the
record nor the field, and a link dated before its cause can slip in if the link arrives
before its events. Here each object is saved, then checked with full_clean() (the rules
editors see in the admin) once every object exists; any problem is reported as
`model pk: field: message`, and nothing is kept.
"""

from __future__ import annotations

from html import unescape

from django.core import serializers
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.management.color import no_style
from django.core.serializers.base import DeserializationError
from django.db import DatabaseError, connections, transaction
from django.db.models import CheckConstraint
from django.utils.html import strip_tags

from ... import search_index


class Command(BaseCommand):
    help = "Load fixtures into the record, validating every object; on any error load nothing."

    def add_arguments(self, parser):
        parser.add_argument("fixtures", nargs="+", help="Fixture names or paths, as for loaddata.")
        parser.add_argument("--database", default="default")

    def handle(self, *args, fixtures=(), database="default", verbosity=1, **options):
        problems: list[str] = []
        self.loaded_models: set = set()
        try:
            with transaction.atomic(using=database):
                count = sum(self._load(name, database, problems) for name in fixtures)
                if not problems:
                    self._check_references(database, problems)
                if problems:
                    raise _Rollback
                self._reset_sequences(database)
                # loaddata's saves are raw, which search's index does not follow.
                search_index.rebuild()
        except _Rollback:
            raise CommandError(
                "Nothing was loaded. Fix these problems in the fixture:\n"
                + "\n".join(f"  {problem}" for problem in problems)
            ) from None
        if verbosity:
            self.stdout.write(f"Loaded and validated {count} object(s).")

    def _reset_sequences(self, database: str) -> None:
        """Objects were saved with their fixture IDs; move PostgreSQL's ID sequences past
        them, as loaddata does, or the next record an editor adds collides with one."""
        connection = connections[database]
        statements = connection.ops.sequence_reset_sql(no_style(), list(self.loaded_models))
        if statements:
            with connection.cursor() as cursor:
                for statement in statements:
                    cursor.execute(statement)

    def _load(self, name: str, database: str, problems: list[str]) -> int:
        path, format_ = self._find(name, database)
        try:
            with open(path, encoding="utf-8") as stream:
                objects = list(
                    serializers.deserialize(
                        format_, stream, using=database, handle_forward_references=True
                    )
                )
        except DeserializationError as exc:
            problems.append(f"{path}: {_root_cause(exc)}")
            return 0
        saved = []
        for deserialized in objects:
            obj = deserialized.object
            # Fixture loads are not editors' changes: keep them out of the edit history.
            obj.skip_history_when_saving = True
            messages = _field_problems(obj)
            if not messages:
                try:
                    with transaction.atomic(using=database):
                        deserialized.save(using=database)
                except (DatabaseError, ValidationError, ObjectDoesNotExist) as exc:
                    # Say it in the editors' words when a model rule explains the refusal.
                    messages = _rule_problems(obj, database) or [
                        f"{_label(obj)}: the database refused it: {_root_cause(exc)}"
                    ]
            if messages:
                problems.extend(messages)
                continue
            saved.append(deserialized)
            self.loaded_models.add(type(obj))
        for deserialized in saved:
            if deserialized.deferred_fields:
                deserialized.save_deferred_fields(using=database)
        for deserialized in saved:
            obj = deserialized.object
            try:
                obj.full_clean()
            except ValidationError as exc:
                problems.extend(_describe(obj, exc))
        return len(objects)

    def _find(self, name: str, database: str) -> tuple[str, str]:
        from django.core.management.commands.loaddata import Command as LoadData

        finder = LoadData()
        finder.using = database
        finder.app_label = None
        finder.verbosity = 0
        finder.serialization_formats = serializers.get_public_serializer_formats()
        try:
            found = finder.find_fixtures(name)
        except CommandError as exc:
            raise CommandError(str(exc)) from None
        if not found:
            raise CommandError(f"No fixture named {name!r} found.")
        path, _, _ = found[0]
        format_ = path.rsplit(".", 1)[-1]
        return path, format_

    def _check_references(self, database: str, problems: list[str]) -> None:
        """Dangling references that full_clean cannot see (many-to-many rows)."""
        connection = connections[database]
        try:
            with transaction.atomic(using=database):
                connection.check_constraints()
        except DatabaseError as exc:
            problems.append(f"reference check: {_root_cause(exc)}")


class _Rollback(Exception):
    pass


def _label(obj) -> str:
    return f"{obj._meta.label_lower} {obj.pk}"


def _field_problems(obj) -> list[str]:
    """Values that are wrong on their own (length, format, choices), before the database
    sees them; references are checked once every object exists."""
    relations = {field.name for field in obj._meta.fields if field.is_relation}
    try:
        obj.clean_fields(exclude=relations)
    except ValidationError as exc:
        return _describe(obj, exc)
    return []


def _rule_problems(obj, database: str) -> list[str]:
    """The model's own account of a row the database refused: check constraints, then
    clean() (which mirrors the triggers)."""
    problems = []
    for constraint in obj._meta.constraints:
        if isinstance(constraint, CheckConstraint):
            try:
                constraint.validate(type(obj), obj, using=database)
            except ValidationError as exc:
                problems.extend(f"{_label(obj)}: {message}" for message in exc.messages)
    if not problems:
        try:
            obj.clean()
        except ValidationError as exc:
            problems.extend(_describe(obj, exc))
        except ObjectDoesNotExist:
            pass
    return problems


def _describe(obj, error: ValidationError) -> list[str]:
    lines = []
    for field, messages in error.message_dict.items():
        where = "" if field == "__all__" else f"{field}: "
        lines.extend(
            f"{_label(obj)}: {where}{unescape(strip_tags(message))}" for message in messages
        )
    return lines


def _root_cause(exc: BaseException) -> str:
    text = str(exc).strip() or exc.__class__.__name__
    return " ".join(text.split())
