"""The page cache on a real Redis, shared by app servers: pages stored there are served to
every worker, and a Redis that stops mid-run costs the pages their speed, not their answer.

Each test starts a Redis server of its own (Debian's redis-server) on a free port of
127.0.0.1, so that stopping it touches nothing else on the machine.
"""

import os
import shutil
import socket
import subprocess
import time

import pytest
from django.core.cache import caches
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from disputes.models import Event
from disputes.settings import cache_from_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def redis_server(tmp_path):
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("redis-server is required in CI (apt-get install redis-server)")
        pytest.skip("redis-server is not installed")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    yield process, f"redis://127.0.0.1:{port}/0"
    process.kill()
    process.wait()


@pytest.fixture
def on_redis(redis_server):
    process, location = redis_server
    with override_settings(CACHES={"default": cache_from_url(location)}):
        yield process


def test_redis_url_selects_djangos_redis_cache():
    config = cache_from_url("redis://cache.internal:6379/2")
    assert config["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert config["LOCATION"] == "redis://cache.internal:6379/2"


def test_pages_are_stored_in_redis_for_every_app_server(client, article, on_redis):
    event = Event.objects.get(title__startswith="Tajikistan detains")
    first = client.get(event.get_absolute_url())
    keys = caches["default"]._cache.get_client().keys("*")
    assert any(b"page:" in key for key in keys), keys
    # Another app server is another process: the same Redis answers it with the same page.
    with (
        override_settings(CACHES={"default": cache_from_url(caches["default"]._servers[0])}),
        CaptureQueriesContext(connection) as queries,
    ):
        again = client.get(event.get_absolute_url())
    assert again.content == first.content
    assert len(queries) == 1, "the version; the page itself came from Redis"


def test_stopping_redis_mid_run_costs_no_page(client, article, on_redis, caplog):
    urls = [event.get_absolute_url() for event in Event.objects.all()]
    before = [client.get(path) for path in urls]
    assert all(response.status_code == 200 for response in before)
    on_redis.kill()
    on_redis.wait()
    started = time.monotonic()
    after = [client.get(path) for path in urls]
    assert [r.status_code for r in after] == [200] * len(urls)
    assert [r.content for r in after] == [r.content for r in before]
    assert time.monotonic() - started < 5 + 0.1 * len(urls), "no page waits long on Redis"
    assert "page cache: get failed" in caplog.text
