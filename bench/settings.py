"""Settings for the benchmark: production settings plus a hello-world baseline URL.

The runner (bench/run.py) sets DJANGO_DEBUG=0, a throwaway DJANGO_SECRET_KEY and the
DATABASE_URL before Django starts, so everything below is what production would run, except
that the URLconf adds /__bench__/hello. That view exists only under these settings: the
production URLconf (disputes.urls) never sees it.
"""

import os
from pathlib import Path

from disputes.settings import *  # noqa: F403

DEBUG = False
ROOT_URLCONF = "bench.urls"

# The runner collects static files into its own directory, so that another checkout's
# `collectstatic --clear` cannot pull files from under a running benchmark.
STATIC_ROOT = Path(os.environ.get("BENCH_STATIC_ROOT", STATIC_ROOT))  # noqa: F405

# Cold runs start gunicorn with BENCH_PAGE_CACHE=off: the page cache (if the project has one)
# becomes a cache that never holds anything, so every request is rendered, whatever the
# cache's key is made of. Warm runs keep the production cache.
if os.environ.get("BENCH_PAGE_CACHE") == "off" and "pages" in globals().get("CACHES", {}):
    CACHES = {  # noqa: F405
        **CACHES,  # noqa: F405
        "pages": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"},
    }
