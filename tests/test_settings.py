"""Settings come from the environment and fail loudly on a missing or malformed value."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run_django(code: str, **env: str) -> subprocess.CompletedProcess:
    """Run `code` in a fresh interpreter with Django set up under the given environment."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    clean.update(
        DJANGO_SETTINGS_MODULE="disputes.settings",
        DJANGO_LOCAL_SECRET_KEY_FILE=str(ROOT / "var" / "no-such-key-file"),
    )
    clean.update(env)
    script = f"import django; django.setup()\n{code}"
    return subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_start_without_secret_key_fails_with_a_clear_message():
    result = run_django("print('started')", DJANGO_DEBUG="0")
    assert result.returncode != 0
    assert "started" not in result.stdout
    assert "DJANGO_SECRET_KEY" in result.stderr
    assert "must be set" in result.stderr


def test_debug_mode_runs_without_a_secret_key():
    result = run_django("print('started')", DJANGO_DEBUG="1")
    assert result.returncode == 0, result.stderr
    assert "started" in result.stdout


def test_secret_key_can_come_from_a_file(tmp_path):
    key_file = tmp_path / "key"
    key_file.write_text("from-a-file-" + "x" * 50 + "\n")
    result = run_django(
        "from django.conf import settings; print(settings.SECRET_KEY)",
        DJANGO_SECRET_KEY_FILE=str(key_file),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "from-a-file-" + "x" * 50


def test_malformed_boolean_names_the_variable():
    result = run_django("", DJANGO_DEBUG="maybe", DJANGO_SECRET_KEY="k" * 50)
    assert result.returncode != 0
    assert "DJANGO_DEBUG='maybe' is not a boolean" in result.stderr


def test_database_url_selects_postgresql():
    result = run_django(
        "from django.conf import settings; d = settings.DATABASES['default'];"
        "print(d['ENGINE'], d['NAME'], d['HOST'], d['PORT'])",
        DJANGO_SECRET_KEY="k" * 50,
        DATABASE_URL="postgres://someone@db.internal:6543/disputes",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.postgresql",
        "disputes",
        "db.internal",
        "6543",
    ]


def test_default_database_is_an_sqlite_file_in_the_project():
    result = run_django(
        "from django.conf import settings; d = settings.DATABASES['default'];"
        "print(d['ENGINE'], d['NAME'])",
        DJANGO_SECRET_KEY="k" * 50,
    )
    assert result.returncode == 0, result.stderr
    engine, name = result.stdout.split()
    assert engine == "django.db.backends.sqlite3"
    assert name == str(ROOT / "var" / "db.sqlite3")


def test_hosts_and_trusted_origins_come_from_the_environment():
    result = run_django(
        "from django.conf import settings; print(settings.ALLOWED_HOSTS);"
        "print(settings.CSRF_TRUSTED_ORIGINS)",
        DJANGO_SECRET_KEY="k" * 50,
        DJANGO_ALLOWED_HOSTS="a.example, b.example",
        DJANGO_CSRF_TRUSTED_ORIGINS="https://a.example",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["['a.example', 'b.example']", "['https://a.example']"]


@pytest.mark.parametrize("behind_proxy", ["1", "0"])
def test_tls_proxy_flag_controls_secure_cookies_redirect_and_hsts(behind_proxy):
    result = run_django(
        "from django.conf import settings;"
        "print(getattr(settings, 'SECURE_PROXY_SSL_HEADER', None), settings.SECURE_SSL_REDIRECT,"
        " settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE, settings.SECURE_HSTS_SECONDS)",
        DJANGO_SECRET_KEY="k" * 50,
        DJANGO_BEHIND_TLS_PROXY=behind_proxy,
    )
    assert result.returncode == 0, result.stderr
    if behind_proxy == "1":
        assert result.stdout.split() == [
            "('HTTP_X_FORWARDED_PROTO',",
            "'https')",
            "True",
            "True",
            "True",
            "31536000",
        ]
    else:
        assert result.stdout.split() == ["None", "False", "False", "False", "0"]


def test_deploy_check_is_clean_under_production_settings():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")},
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": "a-long-random-production-key-" + "Zq8" * 20,
            "DJANGO_BEHIND_TLS_PROXY": "1",
            "DJANGO_ALLOWED_HOSTS": "disputes.example.org",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


CACHE_BACKEND = "from django.conf import settings; print(settings.CACHES['default']['BACKEND'])"


@pytest.mark.parametrize(
    ("env", "backend"),
    [
        ({}, "django.core.cache.backends.locmem.LocMemCache"),
        (
            {"REDIS_URL": "redis://cache.internal:6379/0"},
            "django.core.cache.backends.redis.RedisCache",
        ),
        (
            {"CACHE_URL": "rediss://cache.internal:6380/1"},
            "django.core.cache.backends.redis.RedisCache",
        ),
        ({"CACHE_URL": "locmem://"}, "django.core.cache.backends.locmem.LocMemCache"),
        ({"CACHE_URL": "dummy://"}, "django.core.cache.backends.dummy.DummyCache"),
    ],
    ids=["unset", "REDIS_URL", "CACHE_URL redis", "locmem", "dummy"],
)
def test_the_page_cache_comes_from_the_environment(env, backend):
    clean = {"REDIS_URL": "", "CACHE_URL": "", **env}
    result = run_django(CACHE_BACKEND, DJANGO_SECRET_KEY="k" * 50, **clean)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == backend


def test_an_unknown_cache_url_names_the_variable_and_the_choices():
    result = run_django(CACHE_BACKEND, DJANGO_SECRET_KEY="k" * 50, CACHE_URL="memcached://x")
    assert result.returncode != 0
    assert "CACHE_URL='memcached://x'" in result.stderr and "redis://" in result.stderr
