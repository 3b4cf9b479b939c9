"""A source's annotate page: its text with the sentences numbered, from which an editor
picks sentences (or a passage inside one) and turns them into quotes of a record.

The page only gathers the quotes. "New event" (or person, case, detention, link) opens
that record's ordinary add form, "Attach to" an existing record's change form, with the
picked passages filled into its quotes; the editor saves there, so every rule of the
record and of its quotes is checked where it always is. Without JavaScript the sentences
are checkboxes; the page posts the picks, which reach the record's form through the
session; static/js/annotate.js adds passages picked with the mouse and lets the
editor trim each quote with the keyboard.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from .editing import PickerChoiceField, PickerSelect
from .models import Citation, Claim, Event, RetaliationLink, Source
from .quotes import closest_passage

# What a new record made from quotes can be, and whether it belongs to a dispute.
NEW_RECORDS = {
    "event": ("event", True),
    "person": ("person", False),
    "case": ("case", True),
    "detention": ("detention", True),
    "retaliationlink": ("link", False),
}

# Existing records to attach quotes to: each picked through the admin's autocomplete of a
# relation that points at that kind of record.
ATTACH = {
    "event": ("event", lambda: RetaliationLink._meta.get_field("cause")),
    "retaliationlink": ("link", lambda: Claim._meta.get_field("link")),
    "person": ("person", lambda: Event._meta.get_field("people")),
    "case": ("case", lambda: Event._meta.get_field("case")),
    "detention": ("detention", lambda: Event._meta.get_field("detention")),
    "dispute": ("dispute", lambda: Event._meta.get_field("dispute")),
}
MAX_QUOTES = 20
# The picked quotes travel to the record's form in the editor's session, not in its address:
# twenty sentences would make an address longer than servers and proxies accept, and put
# the quotes in every access log on the way. The latest few picks are kept, one per tab.
PICKED = "annotate-picked"
PICKS_KEPT = 10


def carry(request, source, quotes) -> str:
    """Keep `quotes` of `source` for the form about to open; the key to find them again."""
    picks = request.session.get(PICKED, {})
    key = secrets.token_urlsafe(9)
    picks[key] = {"source": source.pk, "quotes": quotes}
    request.session[PICKED] = dict(list(picks.items())[-PICKS_KEPT:])
    return key


def picked_quotes(request) -> tuple[int | None, list[str]]:
    """The source and passages picked on an annotate page for the form being opened (the
    `_picked` key in its address); a saved form posts its quotes itself."""
    if request.method != "GET":
        return None, []
    pick = request.session.get(PICKED, {}).get(request.GET.get("_picked", ""))
    if not pick:
        return None, []
    return pick["source"], pick["quotes"]


class AttachForm(forms.Form):
    """One picker per kind of record, each showing date, lane and kind where it has them."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, (label, field) in ATTACH.items():
            relation = field()
            self.fields[f"record_{name}"] = PickerChoiceField(
                queryset=relation.related_model._default_manager.all(),
                required=False,
                label=label.capitalize(),
                widget=PickerSelect(relation, admin.site),
            )


@require_http_methods(["GET", "HEAD", "POST"])
def annotate_view(request, object_id, model_admin):
    if not str(object_id).isdigit():
        raise Http404("No such source.")
    source = get_object_or_404(Source, pk=int(object_id))
    if not model_admin.has_view_permission(request, source):
        raise PermissionDenied
    quotes = [q for q in request.POST.getlist("_quote") if q.strip()][:MAX_QUOTES]
    form = AttachForm(request.POST or None)
    problems = [
        (quote, closest_passage(source.text, quote)) for quote in quotes if quote not in source.text
    ]
    make, attach = request.POST.get("make"), request.POST.get("attach")
    if (make or attach) and not quotes:
        messages.error(request, "Pick at least one sentence or passage of the text first.")
    elif (make or attach) and not problems:
        target = _target(request, source, quotes, make, attach, form)
        if target:
            return HttpResponseRedirect(target)
    disputes = list(source.disputes.all())
    lines = _lines(source)
    whole = {part["text"] for line in lines for part in line if "sentence" in part}
    context = {
        **model_admin.admin_site.each_context(request),
        "title": f"Annotate: {source}",
        "subtitle": None,
        "opts": Source._meta,
        "source": source,
        "lines": lines,
        "quotes": quotes,
        # Passages that are not whole sentences (those are ticked in the text instead).
        "passages": [
            (quote, source.text.find(quote) if quote in source.text else len(source.text))
            for quote in quotes
            if quote not in whole
        ],
        "problems": problems,
        "form": form,
        "media": model_admin.media + form.media,
        "new_records": [(name, label) for name, (label, _) in NEW_RECORDS.items()],
        "dispute": disputes[0] if len(disputes) == 1 else None,
        "change_url": reverse("admin:disputes_source_change", args=[source.pk]),
    }
    return TemplateResponse(request, "admin/disputes/source/annotate.html", context)


def _target(request, source, quotes, make, attach, form) -> str | None:
    """Where the picked quotes go: the add form of a new record, or the change form of the
    record picked; None (with a message) when the choice is incomplete."""
    carried = [("_picked", carry(request, source, quotes))]
    if make in NEW_RECORDS:
        _label, in_dispute = NEW_RECORDS[make]
        disputes = list(source.disputes.values_list("pk", flat=True)[:2])
        if in_dispute and len(disputes) == 1:
            carried.append(("dispute", disputes[0]))
        return f"{reverse(f'admin:disputes_{make}_add')}?{urlencode(carried)}"
    if attach in ATTACH:
        if not form.is_valid() or form.cleaned_data.get(f"record_{attach}") is None:
            label = ATTACH[attach][0]
            messages.error(
                request, f"Choose the {label} to attach the quotes to, then press its button."
            )
            return None
        record = form.cleaned_data[f"record_{attach}"]
        change = reverse(f"admin:disputes_{attach}_change", args=[record.pk])
        return f"{change}?{urlencode(carried)}"
    messages.error(request, "Choose what to make of the quotes.")
    return None


def _lines(source) -> list[list[dict]]:
    """The text line by line, each line as its sentences (and any text between them), each
    sentence with its number, whether a record cites it, and whether the capture cut it off."""
    text = source.text
    sentences = list(source.sentences.order_by("start"))
    cited = [
        (c.start, c.end) for c in Citation.objects.filter(source=source).only("start", "quote")
    ]
    cut_off = source.cut_off_ends()
    lines, offset, index = [], 0, 0
    for line in text.split("\n"):
        end = offset + len(line)
        parts, at = [], offset
        while index < len(sentences) and sentences[index].start < end:
            sentence = sentences[index]
            if sentence.start > at:
                parts.append({"text": text[at : sentence.start]})
            parts.append(
                {
                    "text": text[sentence.start : sentence.end],
                    "sentence": sentence,
                    "cited": any(s < sentence.end and e > sentence.start for s, e in cited),
                    "cut_off": sentence.end in cut_off,
                }
            )
            at = sentence.end
            index += 1
        if end > at:
            parts.append({"text": text[at:end]})
        lines.append(parts)
        offset = end + 1
    return lines
