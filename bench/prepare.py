"""Fill the benchmark's database and say which URLs to load: run by bench/run.py in a
subprocess, with the benchmark's environment (settings, DATABASE_URL) already set.

    python bench/prepare.py --out urls.json [--article] [--events 1000] [--links-per-event 1.3]

Migrates, loads the article's fixture when asked and present, generates one dispute, and
writes JSON: the generated dispute's page, its events' permalinks, the article's events'
permalinks, search queries and the hashed static files. Run it again on the same database
to add another dispute (the scale benchmark does).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

ARTICLE_FIXTURE = "russia_tajikistan"
# Searches a reader might type: names, places, kinds of step, and words that match nothing.
QUERIES = [
    "Khukumov",
    "pilot",
    "Tajik migrants",
    "smuggling",
    "arrest",
    "Person 1-17",
    "release 57",
    "District court 3",
    "Arcadian statement",
    "Estonian",
    "railroad",
    "nothing matches this",
    '"Moscow region court"',
    "Rakhmon",
    "roundup 400",
    "City 12",
]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--article", action="store_true", help="load the article's fixture")
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--links-per-event", type=float, default=1.3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from bench.generate import analyze, make_dispute
    from disputes.models import Dispute, Event, RetaliationLink

    started = time.monotonic()
    call_command("migrate", interactive=False, verbosity=0)
    article = False
    if args.article and (ROOT / "fixtures" / f"{ARTICLE_FIXTURE}.json").exists():
        call_command("loaddata", ARTICLE_FIXTURE, verbosity=0)
        call_command("rebuild_search_index", verbosity=0)  # loaddata sends no signals
        article = True

    dispute = None
    if args.events:
        dispute = make_dispute(
            args.events,
            links_per_event=args.links_per_event,
            seed=args.seed,
            title=f"Synthetic dispute of {args.events} events (seed {args.seed})",
            log=lambda msg: print(msg, file=sys.stderr),
        )
    analyze()

    def permalinks(queryset):
        return [e.get_absolute_url() for e in queryset.only("pk", "title").order_by("pk")]

    generated = {}
    if dispute:
        events = Event.objects.filter(dispute=dispute)
        ids = list(events.order_by("pk").values_list("pk", flat=True))
        # The middle of the chain: a step with causes, responses, a previous and a next step.
        middle = Event.objects.get(pk=ids[len(ids) // 2])
        generated = {
            "dispute_id": dispute.pk,
            "dispute_url": dispute.get_absolute_url(),
            "events": len(ids),
            "links": RetaliationLink.objects.filter(cause__dispute=dispute).count(),
            "event_urls": permalinks(events),
            "middle_event_url": middle.get_absolute_url(),
        }
    article_urls = []
    if article:
        article_urls = permalinks(Event.objects.exclude(dispute__title__startswith="Synthetic"))

    manifest = Path(os.environ.get("BENCH_STATIC_ROOT", ROOT / "staticfiles")) / "staticfiles.json"
    static = json.loads(manifest.read_text())["paths"] if manifest.exists() else {}
    result = {
        "database": connection.vendor,
        "article_loaded": article,
        "article_event_urls": article_urls,
        "generated": generated,
        "totals": {
            "disputes": Dispute.objects.count(),
            "events": Event.objects.count(),
            "links": RetaliationLink.objects.count(),
        },
        "queries": QUERIES,
        "static": static,
        "seconds": round(time.monotonic() - started, 1),
    }
    Path(args.out).write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
