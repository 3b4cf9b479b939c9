"""Write search's index again from the record: after writes that send no signals
(bulk_create, QuerySet.update(), raw SQL, plain loaddata). See disputes/search_index.py."""

from django.core.management.base import BaseCommand

from ... import search_index


class Command(BaseCommand):
    help = "Write search's index again from the whole record, in one transaction."

    def handle(self, *args, verbosity=1, **options):
        say = self.stdout.write if verbosity > 1 else None
        total = search_index.rebuild(log=say)
        if verbosity:
            self.stdout.write(f"Indexed {total} entries for search.")
