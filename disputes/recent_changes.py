"""The admin's recent changes: every kind of record in one list, newest first, deletions
included, each with the way back.

The edit history is django-simple-history's, one table per model. A change or an addition
is restored through its own revert form (the editor sees the version and saves it); a
deletion is undone here in one step, with everything deleted with the record (its quotes,
a link's claims, a person's roles): a record restored without its quotes would be a draft,
a link without its claims would have lost its evidence.
"""

from __future__ import annotations

import datetime
import heapq
import itertools

from django.apps import apps
from django.contrib import admin, messages
from django.contrib.contenttypes.fields import GenericRelation
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db import DatabaseError, models, transaction
from django.db.models import prefetch_related_objects
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.views.decorators.http import require_POST, require_safe

from .models import STR_RELATED, Sentence

ACTIONS = {"+": "added", "~": "changed", "-": "deleted"}
LIMIT = 100
# A record's quotes are deleted with it, a moment before it (the same request).
WITH_ITS_RECORD = datetime.timedelta(seconds=30)


def tracked_models() -> dict[str, type]:
    """Every model of the record the admin edits that keeps an edit history, by name.
    Sentences are left out: they are cut from their source's text, not edited."""
    return {
        model._meta.model_name: model
        for model in apps.get_app_config("disputes").get_models()
        if admin.site.is_registered(model)
        and history_of(model) is not None
        and model is not Sentence
    }


def history_of(model):
    """The edit history's manager of `model`, or None when it keeps none."""
    name = getattr(model._meta, "simple_history_manager_attribute", None)
    return getattr(model, name) if name else None


@require_safe
def recent_changes_view(request):
    models = tracked_models()
    kind = request.GET.get("kind", "")
    if kind and kind not in models:
        kind = ""
    chosen = {kind: models[kind]} if kind else models
    streams = []
    for name, model in chosen.items():
        if not admin.site.get_model_admin(model).has_view_permission(request):
            continue
        rows = history_of(model).select_related("history_user").order_by("-history_date")
        streams.append([(row, name, model) for row in rows[:LIMIT]])
    merged = heapq.merge(*streams, key=lambda item: item[0].history_date, reverse=True)
    shown = [(v, name, model, v.instance) for v, name, model in itertools.islice(merged, LIMIT)]
    # Each row names its record; what the names read from other tables, read once a kind.
    for name in {name for _, name, _, _ in shown}:
        records = [record for _, kind, _, record in shown if kind == name]
        prefetch_related_objects(records, *STR_RELATED.get(name, []))
    changes = [_row(*row) for row in shown]
    context = {
        **admin.site.each_context(request),
        "title": "Recent changes",
        "changes": changes,
        "kinds": sorted((m._meta.verbose_name, n) for n, m in models.items()),
        "kind": kind,
        "limit": LIMIT,
    }
    return TemplateResponse(request, "admin/disputes/recent_changes.html", context)


def _row(version, name, model, record) -> dict:
    pk = getattr(version, model._meta.pk.attname)
    try:
        if any(
            getattr(record, f"{part}_id") is not None and getattr(record, part) is None
            for part in STR_RELATED.get(name, [])
        ):
            raise ObjectDoesNotExist
        label = str(record)
    except ObjectDoesNotExist:  # a part it names is gone (deleted since): show what is kept
        label = f"{model._meta.verbose_name} {pk}"
    row = {
        "when": version.history_date,
        "who": version.history_user.get_username() if version.history_user else "",
        "action": ACTIONS.get(version.history_type, version.history_type),
        "kind": model._meta.verbose_name,
        "label": label,
        "reason": version.history_change_reason or "",
        "pk": pk,
    }
    try:
        row["history_url"] = reverse(f"admin:disputes_{name}_history", args=[pk])
        row["version_url"] = reverse(
            f"admin:disputes_{name}_simple_history", args=[pk, version.history_id]
        )
    except NoReverseMatch:
        row["history_url"] = row["version_url"] = None
    if version.history_type == "-":
        row["restore_url"] = reverse("admin:restore", args=[name, version.history_id])
    return row


@require_POST
def restore_view(request, model_name, history_id):
    """Bring a deleted record back as it was when deleted, with its many-to-many choices and
    the quotes deleted with it."""
    model = tracked_models().get(model_name)
    if model is None:
        raise Http404("No such kind of record.")
    model_admin = admin.site.get_model_admin(model)
    if not (model_admin.has_add_permission(request) and model_admin.has_change_permission(request)):
        raise PermissionDenied
    deletion = get_object_or_404(history_of(model), history_id=history_id, history_type="-")
    back = reverse("admin:recent_changes")
    pk = getattr(deletion, model._meta.pk.attname)
    if model._default_manager.filter(pk=pk).exists():
        messages.info(request, f"“{deletion.instance}” is already in the record.")
        return HttpResponseRedirect(back)
    try:
        with transaction.atomic():
            parts = _restore(request, model, deletion)
    except DatabaseError as exc:
        reason = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
        messages.error(
            request,
            f"Nothing was restored: the database refused it ({reason}). A record it belongs "
            "to may be deleted too: restore that one first.",
        )
        return HttpResponseRedirect(back)
    obj = model._default_manager.get(pk=pk)
    url = reverse(f"admin:disputes_{model_name}_change", args=[obj.pk])
    messages.success(
        request,
        format_html(
            'Restored {} <a href="{}">“{}”</a> with {} quote(s) and part(s) deleted with it.',
            model._meta.verbose_name,
            url,
            obj,
            parts,
        ),
    )
    return HttpResponseRedirect(back)


def m2m_choices(version) -> dict[str, list]:
    """The many-to-many choices a version kept, by field name. A deletion's copy is taken
    after the rows went, so for a deletion the version before it holds them."""
    if version.history_type == "-" and version.prev_record is not None:
        version = version.prev_record
    choices = {}
    for field in version._history_m2m_fields:
        rows = getattr(version, field.name).all()
        attname = rows.model._meta.get_field(field.m2m_reverse_field_name()).attname
        choices[field.name] = [getattr(row, attname) for row in rows]
    return choices


def _restore(request, model, deletion, reason="restored from recent changes") -> int:
    """Put the deleted record back, then what was deleted with it (its quotes, a link's
    claims, a person's roles and relations, and their quotes in turn); the number of
    those brought back with it."""
    obj = deletion.instance
    obj._history_user = request.user
    obj._change_reason = reason
    obj.save(force_insert=True)
    for name, pks in m2m_choices(deletion).items():
        getattr(obj, name).set(pks)
    restored = 0
    for part, lookup in _deleted_with(model, obj.pk):
        gone = history_of(part).filter(
            **lookup,
            history_type="-",
            history_user_id=deletion.history_user_id,
            history_date__range=(
                deletion.history_date - WITH_ITS_RECORD,
                deletion.history_date + WITH_ITS_RECORD,
            ),
        )
        for version in gone.order_by("history_date"):
            pk = getattr(version, part._meta.pk.attname)
            if part._default_manager.filter(pk=pk).exists():
                continue
            restored += 1 + _restore(request, part, version, "restored with its record")
    return restored


def _deleted_with(model, pk):
    """What Django deletes with a `model` row: each kind of record that cascades from it,
    with the lookup of that row's parts in the edit history."""
    for part in tracked_models().values():
        for field in part._meta.concrete_fields:
            if (
                field.is_relation
                and field.related_model is model
                and field.remote_field.on_delete is models.CASCADE
            ):
                yield part, {field.attname: pk}
    for field in model._meta.private_fields:
        if isinstance(field, GenericRelation) and field.related_model in tracked_models().values():
            lookup = {
                field.content_type_field_name: ContentType.objects.get_for_model(model),
                field.object_id_field_name: pk,
            }
            yield field.related_model, lookup
