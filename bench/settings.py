"""Settings for the benchmark: production settings plus a hello-world baseline URL.

The runner (bench/run.py) sets DJANGO_DEBUG=0, a throwaway DJANGO_SECRET_KEY, the
DATABASE_URL and the cache (CACHE_URL=dummy:// for the runs where every request is rendered,
REDIS_URL with --redis) before Django starts, so everything below is what production would
run, except that the URLconf adds /__bench__/hello. That view exists only under these
settings: the production URLconf (disputes.urls) never sees it.
"""

import os
from pathlib import Path

from disputes.settings import *  # noqa: F403

DEBUG = False
ROOT_URLCONF = "bench.urls"

# The runner collects static files into its own directory, so that another checkout's
# `collectstatic --clear` cannot pull files from under a running benchmark.
STATIC_ROOT = Path(os.environ.get("BENCH_STATIC_ROOT", STATIC_ROOT))  # noqa: F405
