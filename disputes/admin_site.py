"""The admin site of the record: Django's own, with what editors need across all models.

- pickers (autocomplete) that show a record's date, lane and kind beside its title;
- a page of recent changes to every kind of record, deletions included, each restorable;
- the reading of a date typed as one field, shown before the editor saves.

It replaces the default site through DisputesAdminConfig.default_site (Django's documented
way), so every `admin.register` and `admin.site` in the project uses it.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.http import JsonResponse
from django.urls import path
from django.views.decorators.http import require_safe

from . import dates
from .editing import picker_label


class PickerJsonView(AutocompleteJsonView):
    def serialize_result(self, obj, to_field_name):
        return {"id": str(getattr(obj, to_field_name)), "text": picker_label(obj)}


class DisputesAdminSite(admin.AdminSite):
    site_header = "Dispute explorer: the record"
    site_title = "Dispute explorer admin"
    index_title = "Keep the record"

    def autocomplete_view(self, request):
        return PickerJsonView.as_view(admin_site=self)(request)

    def get_urls(self):
        from .recent_changes import recent_changes_view, restore_view

        return [
            path("parse-date/", self.admin_view(parse_date), name="parse_date"),
            path("recent-changes/", self.admin_view(recent_changes_view), name="recent_changes"),
            path(
                "recent-changes/restore/<str:model_name>/<int:history_id>/",
                self.admin_view(restore_view),
                name="restore",
            ),
            *super().get_urls(),
        ]


@require_safe
def parse_date(request):
    """What a date typed as one field is read as: {"shown": "March 2011", "precision":
    "month"}, or {"error": "..."} saying what to write instead."""
    text = request.GET.get("text", "")[:200]
    try:
        date = dates.parse(text)
    except dates.DateNotUnderstood as exc:
        return JsonResponse({"error": str(exc)})
    return JsonResponse(
        {"shown": date.display() if date.known else "", "precision": str(date.precision)}
    )
