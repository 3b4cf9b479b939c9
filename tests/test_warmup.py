"""The application, as gunicorn --preload imports it in the master process, is warmed up
before any worker is forked, and without opening a database connection to share."""

import logging

from tests.test_settings import run_django

IMPORT_AS_GUNICORN_DOES = """
import gc
import disputes.wsgi
from django.db import connections
from django.template.loader import get_template
from django.template.loaders.filesystem import Loader
from disputes.warmup import project_templates

assert all(c.connection is None for c in connections.all()), "a connection to share"
def read_from_disk(self, origin):
    raise AssertionError(f"read again: {origin.name}")
Loader.get_contents = read_from_disk  # the app directories' loader is one too
names = project_templates()
for name in names:
    get_template(name)
print(len(names), gc.get_freeze_count())
"""


def test_importing_the_application_compiles_every_template_and_opens_no_connection():
    result = run_django(IMPORT_AS_GUNICORN_DOES, DJANGO_SECRET_KEY="x" * 50)
    assert result.returncode == 0, result.stderr
    templates, frozen = map(int, result.stdout.split())
    assert templates >= 15  # the public pages', the error pages', the admin's own
    assert frozen > 10_000, "what the import loaded is kept out of the collector's passes"


def test_a_template_that_does_not_compile_is_logged_and_left_to_its_page(
    settings, tmp_path, caplog
):
    from disputes import warmup

    (tmp_path / "fine.html").write_text("<p>{{ x }}</p>")
    (tmp_path / "broken.html").write_text("<p>{% if %}</p>")
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path]}]
    assert {"fine.html", "broken.html"} <= set(warmup.project_templates())
    with caplog.at_level(logging.ERROR, logger="disputes.warmup"):
        compiled = warmup._compile_templates()
    assert compiled == len(warmup.project_templates()) - 1
    assert "broken.html does not compile" in caplog.text
