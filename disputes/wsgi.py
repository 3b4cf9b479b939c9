import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "disputes.settings")

application = get_wsgi_application()

# What is loaded by now (Django, the project's modules) lives as long as the process: kept out
# of the garbage collector's passes, which would otherwise walk it all again and again, a
# tenth of a rendered page's time. Under gunicorn --preload (bin/start) this happens once, in
# the master, and the workers forked from it share those pages of memory untouched.
gc.collect()
gc.freeze()
