"""Settings for the dispute explorer, read from the environment.

Development defaults are safe: with nothing set, the site runs on an SQLite file inside the
project, on loopback hosts only. Production is configured entirely through environment
variables (see README.md); a missing or malformed value stops start-up with a message that
names the variable, rather than falling back to something insecure.
"""

import os
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None) -> str | None:
    """A string from NAME, or from the file named by NAME_FILE (for container secrets)."""
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        try:
            return Path(file_name).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE={file_name!r} cannot be read: {exc}") from exc
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name}={raw!r} is not a boolean: use 1/0, true/false, yes/no or on/off"
    )


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number") from exc


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", default=False)

# A checkout that ran `make run` or `make test` has a locally generated key in var/; a
# deployment passes its own through the environment (or a *_FILE secret).
LOCAL_SECRET_KEY_FILE = Path(
    os.environ.get("DJANGO_LOCAL_SECRET_KEY_FILE", BASE_DIR / "var" / "secret_key")
)
SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if not SECRET_KEY and LOCAL_SECRET_KEY_FILE.is_file():
    SECRET_KEY = LOCAL_SECRET_KEY_FILE.read_text().strip()
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY (or DJANGO_SECRET_KEY_FILE) must be set when DJANGO_DEBUG is off. "
            "Generate one with: python -c 'import secrets; print(secrets.token_urlsafe(50))'"
        )
    SECRET_KEY = "insecure-development-key-only-used-with-DJANGO_DEBUG-on"

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "disputes.admin_apps.DisputesAdminConfig",  # django.contrib.admin, on the record's own site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "django_htmx",
    "template_partials.apps.SimpleAppConfig",
    "simple_history",
    "csp",
    "axes",
    "disputes",
]

MIDDLEWARE = [
    "disputes.health.HealthCheckMiddleware",
    # A 304 for a browser that holds the page, from the ETag the page cache gave it.
    "django.middleware.http.ConditionalGetMiddleware",
    # Answers stored public pages, with every header the rest gave them (disputes/caching.py).
    "disputes.caching.PageCacheMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "disputes.health.DatabaseUnavailableMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.gzip.GZipMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes requires: it answers locked-out logins.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    # First, so a locked-out attacker is refused before a password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "disputes.urls"
WSGI_APPLICATION = "disputes.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
            "builtins": ["template_partials.templatetags.partials"],
            "loaders": [
                (
                    "template_partials.loader.Loader",
                    [
                        (
                            "django.template.loaders.cached.Loader",
                            [
                                "django.template.loaders.filesystem.Loader",
                                "django.template.loaders.app_directories.Loader",
                            ],
                        )
                    ],
                )
            ],
        },
    }
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Each worker keeps its own connection: pages read through a memory map (no read()
    # call per page of the file) and a 64 MB page cache, so that a search through the
    # full-text index of 100,000 events costs CPU in proportion to what it reads.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "init_command",
        "PRAGMA mmap_size=268435456; PRAGMA cache_size=-65536;",
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    options = DATABASES["default"].setdefault("OPTIONS", {})
    # Fail fast when the database is down instead of hanging a worker.
    options.setdefault("connect_timeout", env_int("DATABASE_CONNECT_TIMEOUT", 3))
    # Parameters bound by the server, and a statement a connection runs for the fifth time
    # prepared (psycopg's prepare_threshold): PostgreSQL then stops parsing and planning the
    # pages' queries afresh on every request, a fifth of a rendered page's time. Set
    # DATABASE_PREPARED_STATEMENTS=0 behind a pooler that cannot keep prepared statements
    # (PgBouncer in transaction mode before 1.21).
    if env_bool("DATABASE_PREPARED_STATEMENTS", True):
        options.setdefault("server_side_binding", True)
        options.setdefault("prepare_threshold", 5)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


def cache_from_url(url: str | None, name: str = "CACHE_URL") -> dict:
    """The page cache (disputes/caching.py): Redis, shared by every app server, when
    REDIS_URL or CACHE_URL names one; otherwise each worker's own memory, which needs nothing
    running (its keys carry the record's version, so no worker ever serves a stale page)."""
    timeout = env_int("PAGE_CACHE_SECONDS", 3600)
    scheme = urlsplit(url or "locmem://").scheme
    if scheme in ("redis", "rediss", "unix"):
        return {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "disputes"),
            "TIMEOUT": timeout,
            # A Redis that is down or slow costs a page its cache, not its answer.
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    if scheme == "locmem":
        return {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "TIMEOUT": timeout,
            "OPTIONS": {"MAX_ENTRIES": env_int("PAGE_CACHE_ENTRIES", 5000)},
        }
    if scheme == "dummy":
        return {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}
    raise ImproperlyConfigured(
        f"{name}={url!r}: use redis://host:6379/0, rediss://..., locmem:// or dummy://"
    )


CACHES = {
    "default": cache_from_url(env_str("REDIS_URL"), "REDIS_URL")
    if env_str("REDIS_URL")
    else cache_from_url(env_str("CACHE_URL"))
}
# What public pages tell browsers, CDNs and shared proxies (caching.public_page).
PUBLIC_CACHE_SECONDS = env_int("PUBLIC_CACHE_SECONDS", 60)
# On PostgreSQL, how long a search's statements may take before the search answers 503.
SEARCH_TIMEOUT_MS = env_int("SEARCH_TIMEOUT_MS", 3000)
PUBLIC_CACHE_STALE_SECONDS = env_int("PUBLIC_CACHE_STALE_SECONDS", 600)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"  # British date and number formats (they follow LANGUAGE_CODE alone)
TIME_ZONE = "UTC"
# The explorer is written in English and translates nothing: without the translation machinery
# each rendered page skips a look-up of the active language per string and per URL it
# reverses (a sixth of an event page's template time).
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Running behind a proxy that terminates TLS (the production shape): trust its
# X-Forwarded-Proto, redirect plain HTTP, and only send cookies over HTTPS.
BEHIND_TLS_PROXY = env_bool("DJANGO_BEHIND_TLS_PROXY", default=False)
if BEHIND_TLS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", default=True)

# The policy allows nothing inline: no inline scripts, no inline styles, no eval. htmx is
# configured (in base.html) not to inject its indicator styles and not to evaluate code.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# Repeated failed logins lock out that username from that address for an hour; every
# failure is logged (logger "axes") and kept in the admin's "access attempts".
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("AXES_COOLOFF_HOURS", 1)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "locked_out.html"
AXES_IPWARE_PROXY_COUNT = 1 if env_bool("DJANGO_BEHIND_TLS_PROXY", default=False) else None
AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.request": {"level": "ERROR"},
        # Failed and locked-out logins are warnings; axes' start-up banner is not news.
        "axes": {"level": "WARNING"},
    },
}

# The public site's name, used in titles and Open Graph tags.
SITE_NAME = os.environ.get("SITE_NAME", "Dispute Explorer")

FIXTURE_DIRS = [BASE_DIR / "fixtures"]
