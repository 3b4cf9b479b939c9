"""Write the whole record, with its edit history and the editors who made it, as one JSON file
that `import_record` loads into an empty database, SQLite or PostgreSQL.

It is `dumpdata` with the choices a faithful export needs made once, so nobody has to
remember them at two in the morning:
- natural keys for content types (citations are generic: their content type IDs differ
  between databases, their app label and model name do not), for users (history rows name
  the editor) and for groups and permissions;
- the disputes app whole, historical tables included, plus the users, the groups and the
  admin's log, so that "who changed what" survives the move.
Sessions, login attempts and caches are not the record and are left out.

Times keep their microseconds: Django's JSON encoder cuts them to milliseconds, which would
change every history timestamp on the way through (and can reorder edits made in the same
millisecond). The file is still plain JSON that `loaddata` reads.
"""

import datetime

from django.apps import apps
from django.core import serializers
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.core.serializers import json as django_json

from ...models import BOOKKEEPING

EXPORTED = ["disputes", "auth.group", "auth.user", "admin.logentry"]
# Bookkeeping, not the record (models.BOOKKEEPING): an import must give the record a new
# version (its own saves do), not restore the one the exported site had, and it writes
# search's index from the record.
FORMAT = "json-exact"


def excluded() -> list[str]:
    return [model._meta.label for model in BOOKKEEPING]


def exported_models() -> list:
    """Every model whose rows an export holds."""
    skip = set(excluded())
    models = []
    for label in EXPORTED:
        if "." in label:
            models.append(apps.get_model(label))
        else:
            models.extend(apps.get_app_config(label).get_models())
    return [model for model in models if model._meta.label not in skip]


class ExactEncoder(django_json.DjangoJSONEncoder):
    def default(self, o):
        if isinstance(o, datetime.datetime | datetime.time):
            text = o.isoformat()
            return text.removesuffix("+00:00") + "Z" if text.endswith("+00:00") else text
        return super().default(o)


class Serializer(django_json.Serializer):
    def _init_options(self):
        super()._init_options()
        if self.json_kwargs.get("cls") is django_json.DjangoJSONEncoder:
            self.json_kwargs["cls"] = ExactEncoder


Deserializer = django_json.Deserializer


class Command(BaseCommand):
    help = "Export the record (with history, editors and the admin log) as JSON."

    def add_arguments(self, parser):
        parser.add_argument("--output", "-o", help="File to write; standard output if absent.")
        parser.add_argument("--database", default="default")
        parser.add_argument("--indent", type=int, default=None)

    def handle(self, *args, output=None, database="default", indent=None, **options):
        serializers.register_serializer(FORMAT, __name__)
        call_command(
            "dumpdata",
            *EXPORTED,
            exclude=excluded(),
            format=FORMAT,
            indent=indent,
            database=database,
            natural_foreign=True,
            natural_primary=True,
            output=output,
            stdout=self.stdout if not output else None,
            verbosity=0,
        )
