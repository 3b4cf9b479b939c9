"""Load an `export_record` file into an empty database: everything, or nothing.

Plain `loaddata` is not enough for a faithful round trip: it saves many-to-many fields
through `.set()`, and django-simple-history records every such change as an edit, so each
import would add a spurious "changed" entry per record to the history it also imports (and
an import of an import would double it again). Here history is off while the export's own
history rows are written, and the whole load is one transaction: a truncated or corrupted
export, or one the database's rules refuse, leaves the database as it was.

Importing over an existing record would silently merge two histories by primary key, so it
is refused: migrate a new, empty database and import into that.
"""

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.core.serializers.base import DeserializationError
from django.db import DatabaseError, transaction
from django.test.utils import override_settings

from ... import search_index
from .export_record import exported_models


class Command(BaseCommand):
    help = "Import an export_record file into an empty database, atomically."

    def add_arguments(self, parser):
        parser.add_argument("path", help="A file written by export_record.")
        parser.add_argument("--database", default="default")

    def handle(self, *args, path, database="default", verbosity=1, **options):
        record = [m for m in exported_models() if m._meta.app_label == "disputes"]
        held = {
            model._meta.label: model._default_manager.using(database).count() for model in record
        }
        held = {label: count for label, count in held.items() if count}
        if held:
            raise CommandError(
                "The database already holds a record ("
                + ", ".join(f"{count} {label}" for label, count in sorted(held.items()))
                + "). Import into an empty database: nothing was changed."
            )
        try:
            with (
                transaction.atomic(using=database),
                override_settings(SIMPLE_HISTORY_ENABLED=False),
            ):
                call_command("loaddata", path, database=database, verbosity=0)
                search_index.rebuild()
        except (CommandError, DatabaseError, DeserializationError, ValueError) as exc:
            cause = " ".join(str(exc).split()) or type(exc).__name__
            raise CommandError(f"Nothing was imported: {cause}") from exc
        if verbosity:
            total = sum(model._default_manager.using(database).count() for model in record)
            self.stdout.write(f"Imported {total} rows of the record.")
