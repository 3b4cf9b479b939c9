import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "disputes.settings")

django_application = get_wsgi_application()

# Stored pages are answered in front of Django's request handling (disputes/caching.py).
from disputes.caching import PageCacheApplication  # noqa: E402 - needs Django set up above

application = PageCacheApplication(django_application)

# Under gunicorn --preload (bin/start) this runs once, in the master, before the workers
# are forked: see disputes/warmup.py.
from disputes.warmup import warm_up  # noqa: E402 - needs Django set up above

warm_up()
