"""The production URLs plus the benchmark's baseline: the cheapest response Django can give
through the same middleware, so that every page's figure can be read as a ratio to it."""

from django.http import HttpResponse
from django.urls import path

from disputes.urls import handler404, handler500  # noqa: F401
from disputes.urls import urlpatterns as production_patterns

HELLO_PATH = "__bench__/hello"


def hello(request):
    return HttpResponse(b"Hello, world!", content_type="text/plain")


urlpatterns = [path(HELLO_PATH, hello, name="bench-hello"), *production_patterns]
