from django.core.management import call_command
from django.core.management.base import BaseCommand

from disputes.models import Dispute

FIXTURE = "russia_tajikistan"


class Command(BaseCommand):
    help = "Load the article's dispute (fixtures/russia_tajikistan.json)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Load only when no dispute is recorded yet, so editors' changes are kept.",
        )

    def handle(self, *args, if_empty=False, **options):
        if if_empty and Dispute.objects.exists():
            self.stdout.write("The record already holds a dispute; nothing loaded.")
            return
        call_command("load_record", FIXTURE, verbosity=options["verbosity"])
