import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "disputes.settings")

application = get_wsgi_application()

# Under gunicorn --preload (bin/start) this runs once, in the master, before the workers
# are forked: see disputes/warmup.py.
from disputes.warmup import warm_up  # noqa: E402 - needs the settings set up above

warm_up()
