"""Shared test fixtures: the article's record, users in roles, and a real Chromium."""

import os
import shutil
from pathlib import Path

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parent.parent
# The captured article the fixtures were built from, kept beside them so the provenance tests
# need nothing outside the repository (a test checks it against ../shared when that exists).
SEED = ROOT / "fixtures" / "seeds" / "000_b6d7aed1128df656.txt"
SHARED_SEED = ROOT.parent / "shared" / "seeds" / SEED.name
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
RECORD_FIXTURE = "russia_tajikistan"
ARTIFACTS = ROOT / "test-artifacts"

# Playwright's sync API runs an event loop in the test thread; the live server's database
# work happens in its own thread, so Django's async-safety guard does not apply here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(autouse=True)
def _empty_page_cache():
    """Each test starts with no cached pages, whatever an earlier test rendered."""
    from django.core.cache import caches

    caches["default"].clear()


@pytest.fixture(autouse=True)
def _fresh_content_types():
    """ContentType's cache read afresh by each test: a test that flushes the database inside
    its transaction (the import tests) has the content types made again under new numbers,
    which the cache keeps after the rollback has brought the old ones back. A fixture loaded
    next would then name content types the database does not have."""
    from django.contrib.contenttypes.models import ContentType

    ContentType.objects.clear_cache()


@pytest.fixture
def article(db):
    """The Russia-Tajikistan dispute as the fixtures record it."""
    call_command("load_record", RECORD_FIXTURE, verbosity=0)


@pytest.fixture
def editor(db, django_user_model):
    from django.contrib.auth.models import Group

    user = django_user_model.objects.create_user(
        "editor", "editor@example.org", "correct horse battery", is_staff=True
    )
    group = Group.objects.filter(name="editors").first()
    if group is not None:
        user.groups.add(group)
    else:
        user.is_superuser = True
        user.save()
    return user


@pytest.fixture
def superuser(db, django_user_model):
    return django_user_model.objects.create_superuser(
        "chief", "chief@example.org", "correct horse battery staple"
    )


@pytest.fixture(scope="session")
def browser():
    """Real Chromium. Skips only on a developer machine without it, never in CI."""
    if not (shutil.which(CHROMIUM) or Path(CHROMIUM).exists()):
        if os.environ.get("CI"):
            pytest.fail(f"Chromium is required in CI but {CHROMIUM} does not exist")
        pytest.skip(f"Chromium not installed at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    """A fresh browser context and page; console errors are collected on page.console_errors."""
    context = browser.new_context()
    page = context.new_page()
    page.console_errors = []
    page.on(
        "console",
        lambda message: (
            page.console_errors.append(message.text) if message.type == "error" else None
        ),
    )
    page.on("pageerror", lambda error: page.console_errors.append(str(error)))
    page.on(
        "response",
        lambda response: (
            page.console_errors.append(f"{response.status} {response.url}")
            if response.status >= 400
            else None
        ),
    )
    yield page
    context.close()


@pytest.fixture(scope="session")
def artifacts_dir():
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def _serve_through_the_app(application):
    """Let whitenoise serve static files, as in production, instead of the finders-based
    test handler that cannot resolve the hashed names the manifest storage produces."""
    return application


@pytest.fixture(scope="session")
def live_server(request):
    from pytest_django.live_server_helper import LiveServer

    server = LiveServer(os.getenv("DJANGO_LIVE_TEST_SERVER_ADDRESS", "localhost"), start=False)
    server.thread.static_handler = _serve_through_the_app
    server.start()
    yield server
    server.stop()


def pytest_collection_modifyitems(config, items):
    """Tests marked `postgresql` prove PostgreSQL-only behaviour (full-text ranking, ...).
    On SQLite they are deselected rather than skipped: CI runs the suite on both databases,
    so each such test runs in the PostgreSQL pass and no test is ever reported skipped."""
    from django.db import connection

    if connection.vendor == "postgresql":
        return
    kept, deselected = [], []
    for item in items:
        (deselected if item.get_closest_marker("postgresql") else kept).append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept


@pytest.fixture(scope="session")
def validate_payload():
    """validate_payload(payload, "event"): checks a payload against schemas/v1/<name>.json,
    the published schema, with its shared parts (common.json) resolved from the repository."""
    import json

    import jsonschema
    from referencing import Registry, Resource

    folder = ROOT / "schemas" / "v1"
    schemas = {p.stem: json.loads(p.read_text()) for p in folder.glob("*.json")}
    registry = Registry().with_resources(
        (schema["$id"], Resource.from_contents(schema)) for schema in schemas.values()
    )

    def validate(payload, name):
        validator = jsonschema.Draft202012Validator(
            schemas[name],
            registry=registry,
            format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
        )
        validator.validate(payload)

    return validate
