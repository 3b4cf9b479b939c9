# The dispute explorer in production: gunicorn behind a TLS-terminating proxy.
#   docker build -t dispute-explorer .
#   docker run -p 8000:8000 -e DJANGO_SECRET_KEY=... -e DATABASE_URL=postgres://... \
#     -e DJANGO_ALLOWED_HOSTS=disputes.example.org -e DJANGO_BEHIND_TLS_PROXY=1 dispute-explorer
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first, pinned by the same constraints as `make`, so code changes reuse this layer.
COPY pyproject.toml constraints.txt ./
# With the FollowTheMoney export's extra, whose PyICU builds against ICU (headers, pkg-config,
# a C++ compiler).
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libicu-dev pkg-config g++ \
    && rm -rf /var/lib/apt/lists/*
RUN python -c "import subprocess, sys, tomllib; project = tomllib.load(open('pyproject.toml', 'rb'))['project']; deps = project['dependencies'] + project['optional-dependencies']['ftm']; subprocess.check_call([sys.executable, '-m', 'pip', 'install', '-c', 'constraints.txt', *deps])"

COPY manage.py ./
COPY bin/ bin/
COPY disputes/ disputes/
COPY templates/ templates/
COPY static/ static/
COPY fixtures/ fixtures/
COPY schemas/ schemas/

# Static files are collected at build time; the key is only for this step and never shipped.
RUN DJANGO_SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput -v0

RUN useradd --system --uid 10001 --home-dir /app app \
    && mkdir -p /app/var \
    && chown app /app/var
USER app

ENV PORT=8000 \
    BIND=0.0.0.0 \
    WEB_CONCURRENCY=3 \
    LOAD_ARTICLE=0
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8000'), timeout=4)"

CMD ["bin/start"]
