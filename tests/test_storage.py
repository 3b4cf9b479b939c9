"""Static URLs are the manifest's hashed names, worked out once per name, and a missing file
is still an error every time it is asked for."""

import pytest
from whitenoise.storage import CompressedManifestStaticFilesStorage

from disputes.storage import StaticFilesStorage


def test_static_urls_are_the_manifests_hashed_names():
    storage, plain = StaticFilesStorage(), CompressedManifestStaticFilesStorage()
    first = storage.url("css/site.css")
    assert first == plain.url("css/site.css")
    assert first != "/static/css/site.css", "hashed"
    assert storage.url("css/site.css") is first  # the kept answer


def test_a_file_missing_from_the_manifest_is_refused_every_time():
    storage = StaticFilesStorage()
    for _ in range(2):
        with pytest.raises(ValueError, match="Missing staticfiles manifest entry"):
            storage.url("css/no-such-file.css")


def test_under_debug_urls_are_not_kept(settings):
    settings.DEBUG = True
    storage = StaticFilesStorage()
    assert storage.url("css/site.css") == "/static/css/site.css"
    assert storage._urls == {}
