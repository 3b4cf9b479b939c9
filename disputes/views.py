"""Public views: thin functions, one query shape per page.

Every permalink carries the primary key; the slug is for humans. A stale or wrong slug
answers with a permanent redirect to the canonical URL, so links survive a rename.
"""

from django.db import connection
from django.http import Http404, HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from .models import Case, Country, Detention, Dispute, Event, Person, RetaliationLink, Source


def _get_or_redirect(queryset, pk, slug):
    """The object with this pk, or a redirect when the slug is not its current one."""
    try:
        obj = queryset.get(pk=pk)
    except queryset.model.DoesNotExist:
        raise Http404(f"No {queryset.model._meta.verbose_name} with ID {pk}.") from None
    if slug != obj.slug:
        return obj, HttpResponsePermanentRedirect(obj.get_absolute_url())
    return obj, None


def _detail(request, queryset, pk, slug, template):
    obj, redirect = _get_or_redirect(queryset, pk, slug)
    if redirect:
        return redirect
    return render(request, template, {"object": obj})


@require_safe
def home(request):
    disputes = Dispute.objects.prefetch_related("countries")
    return render(request, "disputes/home.html", {"disputes": disputes})


@require_safe
def dispute_detail(request, pk, slug):
    return _detail(request, Dispute.objects.all(), pk, slug, "disputes/object.html")


@require_safe
def event_detail(request, pk, slug):
    return _detail(request, Event.objects.all(), pk, slug, "disputes/object.html")


@require_safe
def link_detail(request, pk, slug):
    return _detail(request, RetaliationLink.objects.all(), pk, slug, "disputes/object.html")


@require_safe
def person_detail(request, pk, slug):
    return _detail(request, Person.objects.all(), pk, slug, "disputes/object.html")


@require_safe
def case_detail(request, pk, slug):
    return _detail(request, Case.objects.all(), pk, slug, "disputes/object.html")


@require_safe
def detention_detail(request, pk, slug):
    return _detail(request, Detention.objects.all(), pk, slug, "disputes/object.html")


@require_safe
def country_detail(request, pk, slug):
    return _detail(request, Country.objects.all(), pk, slug, "disputes/object.html")


@require_safe
def source_detail(request, pk, slug):
    return _detail(request, Source.objects.all(), pk, slug, "disputes/object.html")


@require_safe
def search(request):
    return render(request, "disputes/object.html", {"object": None})


@never_cache
@require_safe
def healthz(request):
    """Liveness and readiness in one: 200 only when the database answers."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any database failure means "not ready"
        return JsonResponse({"status": "unavailable", "database": type(exc).__name__}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


def page_not_found(request, exception):
    return render(request, "404.html", {"message": str(exception) if exception else ""}, status=404)


def server_error(request):
    return HttpResponse(
        render(request, "500.html").content, status=500, content_type="text/html; charset=utf-8"
    )
