"""Write the public record as FollowTheMoney entities (line-delimited JSON)."""

from django.core.management.base import BaseCommand, CommandError

from disputes import ftm


class Command(BaseCommand):
    help = "Write the public record as FollowTheMoney entities, one JSON object a line."

    def add_arguments(self, parser):
        parser.add_argument("--output", help="A file to write (default: standard output).")
        parser.add_argument(
            "--base-url",
            default="http://127.0.0.1:8000",
            help="The site's address, for the entities' permalinks.",
        )

    def handle(self, *args, output=None, base_url="", **options):
        base = base_url.rstrip("/")
        try:
            lines = list(ftm.lines(lambda path: base + path))
        except ftm.Unavailable as missing:
            raise CommandError(str(missing)) from None
        if output:
            with open(output, "w", encoding="utf-8") as out:
                out.writelines(lines)
        else:
            self.stdout.write("".join(lines), ending="")
