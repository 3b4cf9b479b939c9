"""The application, as gunicorn --preload imports it in the master process, is warmed up
before any worker is forked, and without opening a database connection to share."""

import logging
import os

from tests.test_settings import ROOT, run_django

IMPORT_AS_GUNICORN_DOES = """
import gc, os, threading
import disputes.wsgi
from django.db import connections
from django.template.loader import get_template
from django.template.loaders.filesystem import Loader
from disputes.warmup import project_templates

assert all(c.connection is None for c in connections.all()), "a connection to share"
assert threading.active_count() == 1, "a thread that would not survive the fork"
def opened(fd):
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except FileNotFoundError:  # the descriptor listdir() itself used
        return ""
sockets = [fd for fd in os.listdir("/proc/self/fd") if opened(fd).startswith("socket:")]
assert not sockets, "a socket (a database connection, say) to share"
def read_from_disk(self, origin):
    raise AssertionError(f"read again: {origin.name}")
Loader.get_contents = read_from_disk  # the app directories' loader is one too
names = project_templates()
for name in names:
    get_template(name)
print(gc.get_freeze_count())
print(*names)
"""


def test_importing_the_application_compiles_every_template_and_opens_no_connection():
    # On the database the suite runs on (run_django drops DATABASE_URL otherwise).
    database = os.environ.get("DATABASE_URL", "")
    result = run_django(IMPORT_AS_GUNICORN_DOES, DJANGO_SECRET_KEY="x" * 50, DATABASE_URL=database)
    assert result.returncode == 0, result.stderr
    frozen, names = result.stdout.splitlines()
    assert int(frozen) > 10_000, "what the import loaded is kept out of the collector's passes"
    # The project's own templates, not those of the packages in the environment (which, in
    # a checkout, lies inside the project's folder).
    ours = sorted(
        p.relative_to(ROOT / "templates").as_posix() for p in ROOT.glob("templates/**/*.html")
    )
    assert names.split() == ours
    assert "disputes/event.html" in ours and "admin/base_site.html" in ours


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
