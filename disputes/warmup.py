"""What every worker process would otherwise do on its first requests, done once at start.

gunicorn runs with --preload (bin/start): the application is imported in the master process,
which then forks the workers, and forks a fresh one each time a worker is recycled
(--max-requests). Whatever the master has done before forking, no worker does again: a
recycled worker is replaced at once instead of spending half a second of a core importing
Django while the other workers queue behind it, which weighed on the slowest requests under
load. So the master also does here what would otherwise fall to each worker's first
requests: importing the URL configuration and filling its table of names, compiling the
project's templates, loading the translations.

None of this touches the database, and nothing here may: a connection opened in the master
would be shared by every worker forked from it.
"""

from __future__ import annotations

import gc
import logging
import sys
from pathlib import Path

logger = logging.getLogger(__name__)


def warm_up() -> None:
    from django.conf import settings
    from django.urls import reverse
    from django.utils import translation

    # The first reverse() imports every URL module (the admin's too) and fills the
    # resolver's table of names, for every reverse() after it.
    reverse("disputes:home")
    translation.activate(settings.LANGUAGE_CODE)
    translation.deactivate()
    compiled = _compile_templates()
    # Everything loaded so far lives as long as the process: kept out of the garbage
    # collector's full passes, which would otherwise walk it all again and again (pauses of
    # milliseconds under load), and, after the fork, the collector no longer writes to the
    # pages that hold it. Garbage is collected first, so that none of it is kept for good.
    gc.collect()
    gc.freeze()
    logger.debug("warmed up: %d templates compiled", compiled)


def project_templates() -> list[str]:
    """The names of the project's own templates, as get_template() takes them: those in
    TEMPLATES' DIRS and in the templates folders of the project's own apps (not of the
    installed packages, wherever the environment that holds them lies)."""
    from django.apps import apps
    from django.conf import settings

    root = Path(settings.BASE_DIR).resolve()
    environment = Path(sys.prefix).resolve()
    folders = [Path(d) for t in settings.TEMPLATES for d in t.get("DIRS", [])]
    for app in apps.get_app_configs():
        path = Path(app.path).resolve()
        if path.is_relative_to(root) and not path.is_relative_to(environment):
            folders.append(path / "templates")
    names = set()
    for folder in folders:
        if folder.is_dir():
            names.update(path.relative_to(folder).as_posix() for path in folder.rglob("*.html"))
    return sorted(names)


def _compile_templates() -> int:
    """Compile the project's templates into the cached loader. A template that does not
    compile is logged and left for its page to report, as it would be without this."""
    from django.template import TemplateSyntaxError
    from django.template.loader import get_template

    compiled = 0
    for name in project_templates():
        try:
            get_template(name)
        except TemplateSyntaxError:
            logger.exception("template %s does not compile", name)
        else:
            compiled += 1
    return compiled
