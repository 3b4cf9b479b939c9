"""Static files: whitenoise's compressed, hashed storage, with each file's URL worked out once.

A page asks for the same few static URLs on every render (the stylesheet, the scripts, the
icon), and the manifest storage looks each one up and splits and rejoins it every time:
~18 us a URL, a tenth of rendering a small page. The manifest does not change while the
process runs, so the answer is kept per name. Under DEBUG (unhashed names, files that may
appear at any time) and for forced look-ups, the storage answers as it always did.
"""

from django.conf import settings
from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._urls: dict[str, str] = {}

    def url(self, name, force=False):
        if force or settings.DEBUG:
            return super().url(name, force)
        found = self._urls.get(name)
        if found is None:
            found = self._urls[name] = super().url(name)
        return found
