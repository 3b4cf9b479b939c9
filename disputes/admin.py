"""The admin: the editors' tool for keeping the record right.

Every model of the record is here, with its edit history (django-simple-history: who changed
what and when, and a revert to any earlier version). The rules of the domain live on the
models and in the database; the forms below only add what a model cannot see from one row
(several quotes added in one save). Change lists fetch what `__str__` and the columns need
up front, so a page costs the same number of queries whatever its length.
"""

from __future__ import annotations

from django import forms
from django.apps import apps
from django.contrib import admin, messages
from django.contrib.admin.utils import flatten_fieldsets
from django.contrib.contenttypes.admin import BaseGenericInlineFormSet, GenericTabularInline
from django.contrib.contenttypes.fields import GenericRelation
from django.contrib.contenttypes.models import ContentType
from django.contrib.contenttypes.prefetch import GenericPrefetch
from django.db import IntegrityError, models, transaction
from django.db.models import Count, Exists, F, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce, Length
from django.forms.models import BaseInlineFormSet
from django.http import Http404, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from .annotate import annotate_view, picked_quotes
from .editing import (
    PICKER_RELATED,
    PickerChoiceField,
    PickerMultipleChoiceField,
    PickerWidgets,
    RecordForm,
    can_be_draft,
    date_parts,
    public_flag,
    record_form,
    why_draft,
)
from .models import (
    STR_RELATED,
    Case,
    Citation,
    Claim,
    Country,
    Detention,
    Dispute,
    Event,
    Person,
    PersonRelation,
    Recorded,
    RetaliationLink,
    Role,
    Sentence,
    Source,
)
from .recent_changes import history_of, m2m_choices

# Models that carry quotes: those with a generic relation to Citation.
CITED_MODELS = [
    model
    for model in apps.get_app_config("disputes").get_models()
    if any(
        isinstance(field, GenericRelation) and field.related_model is Citation
        for field in model._meta.private_fields
    )
]


def str_ready(model):
    """A queryset of `model` that can print its rows without further queries."""
    return model._default_manager.select_related(*STR_RELATED.get(model._meta.model_name, []))


def count_of(model, field: str):
    """The number of `model` rows whose `field` points at the outer row, as a subquery:
    unlike Count() over a join it neither multiplies rows nor needs GROUP BY."""
    rows = (
        model._default_manager.filter(**{field: OuterRef("pk")})
        .order_by()
        .values(field)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)


def public_url(obj) -> str | None:
    """The public permalink that shows `obj`: its own, or that of the record it belongs to."""
    if obj is None:
        return None
    if hasattr(obj, "get_absolute_url"):
        return obj.get_absolute_url()
    if isinstance(obj, Sentence):
        return f"{obj.source.get_absolute_url()}#{obj.anchor}"
    owner = {Claim: "link", Role: "person", PersonRelation: "person", Citation: "record"}
    if type(obj) in owner:
        return public_url(getattr(obj, owner[type(obj)]))
    return None


def admin_link(obj, text=None) -> str:
    if obj is None:
        return "-"
    url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, text if text is not None else obj)


def year_filter(prefix: str, label: str):
    """A change-list filter on a fuzzy date's year: by decade when the record spans many
    years, by year otherwise, plus the rows whose year is unknown. `prefix` may follow a
    relation: "cause__date" filters links by their cause's year."""
    year = f"{prefix}_year"

    class YearFilter(admin.SimpleListFilter):
        title = label
        parameter_name = f"{prefix.replace('__', '_')}_in"

        def lookups(self, request, model_admin):
            years = sorted(
                set(
                    model_admin.model._default_manager.order_by()
                    .filter(**{f"{year}__isnull": False})
                    .values_list(year, flat=True)
                    .distinct()
                )
            )
            if len(years) > 12:
                choices = [(f"{d}s", f"{d}s") for d in sorted({y // 10 * 10 for y in years})]
            else:
                choices = [(str(y), str(y)) for y in years]
            return [*choices, ("unknown", "unknown")]

        def queryset(self, request, queryset):
            value = self.value()
            if not value:
                return queryset
            if value == "unknown":
                return queryset.filter(**{f"{year}__isnull": True})
            try:
                if value.endswith("s"):
                    start = int(value[:-1])
                    return queryset.filter(**{f"{year}__range": (start, start + 9)})
                return queryset.filter(**{year: int(value)})
            except ValueError:
                return queryset.none()

    YearFilter.__name__ = f"{prefix.replace('__', '_').title().replace('_', '')}YearFilter"
    return YearFilter


def grouped_fieldsets(fields) -> list:
    """One fieldset of the given fields, each fuzzy date's year, month and day on one line.

    Built from the model's fields rather than listed by hand, so a field added to a model
    shows up in its form without touching the admin.
    """
    fields = list(fields)
    for name in list(fields):
        if f"{name}_inferred" in fields and f"{name}_year" not in fields:
            fields.remove(name)  # a date typed as one field goes just before its note
            fields.insert(fields.index(f"{name}_inferred"), name)
    lines = []
    for name in fields:
        prefix = name.rsplit("_", 1)[0]
        parts = date_parts(prefix)
        if name in parts and all(part in fields for part in parts):
            if name == parts[0]:
                lines.append(parts)
            continue
        lines.append(name)
    return [(None, {"fields": lines})]


class DateFieldsMixin:
    def get_fieldsets(self, request, obj=None):
        fields = self.get_fields(request, obj)
        if not self.fieldsets:
            return grouped_fieldsets(fields)
        # Fields a model gains later still show up, after the ones laid out by hand.
        placed = set(flatten_fieldsets(self.fieldsets))
        rest = [name for name in fields if name not in placed]
        return [*self.fieldsets, *(grouped_fieldsets(rest) if rest else [])]


# Inlines ------------------------------------------------------------------------------


class CitationFormSet(BaseGenericInlineFormSet):
    """Quotes added together must not cite the same passage twice: the database's unique
    rule covers the quote's position, which is only known once each quote is found."""

    def clean(self):
        super().clean()
        seen = {}
        for form in self.forms:
            if not form.has_changed() and form.instance.pk is None:
                continue
            if self.can_delete and self._should_delete_form(form):
                continue
            if form.errors or not form.cleaned_data:
                continue
            citation = form.instance
            key = (citation.source_id, citation.start)
            if key in seen:
                form.add_error(
                    "quote",
                    "This record already cites a passage starting here: keep one quote "
                    "and remove the other (lengthen or shorten it rather than adding a second).",
                )
            seen[key] = form


class CitationInline(PickerWidgets, GenericTabularInline):
    """The record's quotes. Opened from a source's annotate page, its empty rows come filled
    with the passages the editor picked there."""

    model = Citation
    formset = CitationFormSet
    fields = ["source", "quote"]
    autocomplete_fields = ["source"]
    extra = 1

    def get_extra(self, request, obj=None, **kwargs):
        return max(self.extra, len(picked_quotes(request)[1]))

    verbose_name = "quote"
    verbose_name_plural = "quotes: the sentences of a source that support this record"
    formfield_overrides = {
        models.TextField: {"widget": forms.Textarea(attrs={"rows": 3, "cols": 60})}
    }

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("source")


class SameDisputeFormSet(BaseInlineFormSet):
    """Rows added under a case belong to the case's dispute."""

    def _construct_form(self, i, **kwargs):
        form = super()._construct_form(i, **kwargs)
        if form.instance.pk is None and form.instance.dispute_id is None:
            form.instance.dispute_id = self.instance.dispute_id
        return form


class ClaimInline(PickerWidgets, admin.TabularInline):
    model = Claim
    fields = ["stance", "claimant", "claimant_person", "claimant_country", "detail"]
    autocomplete_fields = ["claimant_person", "claimant_country"]
    extra = 1
    show_change_link = True  # a claim's own quotes are kept on its page


class EventInline(PickerWidgets, admin.TabularInline):
    model = Event
    form = record_form(Event)
    formset = SameDisputeFormSet
    fields = ["kind", "title", "actor", "date", "date_inferred", "sequence"]
    autocomplete_fields = ["actor"]
    extra = 0
    show_change_link = True


class DetentionInline(PickerWidgets, admin.TabularInline):
    model = Detention
    form = record_form(Detention)
    formset = SameDisputeFormSet
    fields = [
        "person",
        "group_description",
        "group_size",
        "holding_country",
        "start",
        "end",
        "ending",
    ]
    autocomplete_fields = ["person", "holding_country"]
    extra = 0
    show_change_link = True


class RoleInline(PickerWidgets, admin.TabularInline):
    model = Role
    fields = ["title", "country", "note"]
    autocomplete_fields = ["country"]
    extra = 0
    show_change_link = True


class RelationInline(PickerWidgets, admin.TabularInline):
    model = PersonRelation
    fk_name = "person"
    fields = ["kind", "other", "detail"]
    autocomplete_fields = ["other"]
    extra = 0
    show_change_link = True
    verbose_name = "relation to another person"
    verbose_name_plural = "relations to other people"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("other")


class SentenceInline(admin.TabularInline):
    """The source's sentences, fixed by its text; an editor marks those kept as context."""

    model = Sentence
    fields = ["number", "text", "context_note"]
    readonly_fields = ["number", "text"]
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("source")


# Model admins ---------------------------------------------------------------------------


def record_baseline(obj) -> None:
    """Give `obj` a first version holding its stored state, if it has none yet.

    Records loaded from fixtures (loaddata saves raw, which django-simple-history does not
    record) have no history; without this, an editor's first change would be its first
    version and the state before it could not be restored. Called just before the admin
    changes or deletes a row, so the row in the database still holds that state.
    """
    model = type(obj)
    history = history_of(model)
    if history is None or obj.pk is None:
        return
    if history.filter(**{model._meta.pk.attname: obj.pk}).exists():
        return
    stored = model._default_manager.filter(pk=obj.pk).first()
    if stored is None:
        return
    stored._history_user = None  # not the editor's work: it predates the admin
    [version] = history.bulk_history_create(
        [stored], default_change_reason="as recorded before its first edit in the admin"
    )
    for field in version._history_m2m_fields:
        copies = getattr(version, field.name).model
        through = field.remote_field.through
        names = [f.name for f in through._meta.fields]
        rows = through.objects.filter(**{field.m2m_field_name(): stored})
        copies.objects.bulk_create(
            copies(history=version, **{n: getattr(row, n) for n in names}) for row in rows
        )


class PublicationFilter(admin.SimpleListFilter):
    """Drafts (no quote yet, or part of a draft) apart from what readers see."""

    title = "publication"
    parameter_name = "publication"

    def lookups(self, request, model_admin):
        return [("draft", "draft: not shown to readers"), ("public", "public")]

    def queryset(self, request, queryset):
        if self.value() == "draft":
            return queryset.filter(is_public=False)
        if self.value() == "public":
            return queryset.filter(is_public=True)
        return queryset


class EditConflict(Exception):
    """Another editor saved the record between this editor's form check and save."""


class RecordAdmin(PickerWidgets, DateFieldsMixin, SimpleHistoryAdmin):
    """What every part of the record shares: history, the public page, safe saving, the
    draft or public state, and the check against lost updates."""

    list_per_page = 50
    list_select_related = ()
    object_history_list_template = "admin/disputes/object_history_list.html"
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    class Media:
        js = ["js/admin.js"]

    def __init__(self, model, admin_site):
        super().__init__(model, admin_site)
        if self.form is forms.ModelForm and issubclass(model, Recorded):
            self.form = record_form(model)

    def view_on_site(self, obj):
        return public_url(obj)

    def get_queryset(self, request):
        # The change list applies list_select_related only to a queryset that selects
        # nothing related yet, so both are joined here.
        related = {
            *STR_RELATED.get(self.model._meta.model_name, []),
            *self.list_select_related,
            *PICKER_RELATED.get(self.model._meta.model_name, []),
        }
        queryset = super().get_queryset(request).select_related(*sorted(related))
        if can_be_draft(self.model):
            queryset = queryset.annotate(is_public=public_flag(self.model))
        return queryset

    def get_list_display(self, request):
        shown = list(super().get_list_display(request))
        if can_be_draft(self.model):
            shown.insert(1, "publication")
        return shown

    def get_list_filter(self, request):
        filters = list(super().get_list_filter(request))
        return [PublicationFilter, *filters] if can_be_draft(self.model) else filters

    @admin.display(description="publication", ordering="is_public")
    def publication(self, obj):
        if obj.is_public:
            return "public"
        return format_html('<span class="draft-mark">{}</span>', "draft")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        kwargs.setdefault("form_class", PickerChoiceField)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        kwargs.setdefault("form_class", PickerMultipleChoiceField)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_formset_kwargs(self, request, obj, inline, prefix):
        kwargs = super().get_formset_kwargs(request, obj, inline, prefix)
        source, quotes = picked_quotes(request) if isinstance(inline, CitationInline) else (0, [])
        if quotes:
            kwargs["initial"] = [{"source": source, "quote": quote} for quote in quotes]
        return kwargs

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # The forms check every rule they can see; a rule the database still refuses
        # (another editor's change in between, say) rolls the whole edit back, and the
        # editor is told why instead of meeting an error page.
        extra_context = dict(extra_context or {})
        if request.method == "GET" and "_picked" in request.GET and not picked_quotes(request)[1]:
            self.message_user(
                request,
                "The quotes picked on the source's annotate page are no longer at hand (the "
                "session ended, or the address was copied): pick them again there.",
                messages.WARNING,
            )
        if can_be_draft(self.model):
            obj = self.get_object(request, object_id) if object_id else None
            extra_context["draft_reasons"] = why_draft(obj) if obj is not None else []
            extra_context["can_be_draft"] = True
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except IntegrityError as exc:
            return self._refused(request, exc)
        except EditConflict:
            self.message_user(
                request,
                "Nothing was saved: another editor saved this record a moment ago. "
                "Open it again to see their change.",
                messages.ERROR,
            )
            return HttpResponseRedirect(request.get_full_path())

    def save_model(self, request, obj, form, change):
        if change:
            record_baseline(obj)
            self._claim_revision(obj, form)
        super().save_model(request, obj, form, change)

    def _claim_revision(self, obj, form) -> None:
        """Move the stored row from the revision the form was opened at to the next, in
        the edit's own transaction: of two editors saving at once, the second finds the
        revision gone and is refused (the form has already shown most such conflicts)."""
        seen = form.cleaned_data.get("revision_seen") if hasattr(form, "cleaned_data") else None
        if seen is None or not isinstance(obj, Recorded):
            return
        rows = self.model._default_manager.filter(pk=obj.pk)
        if not rows.exists():
            return  # restoring a deleted record: there is nothing to overwrite
        if not rows.filter(revision=seen).update(revision=seen + 1):
            raise EditConflict
        obj.revision = seen  # its save moves it to seen + 1, the revision just claimed

    def response_add(self, request, obj, post_url_continue=None):
        self._say_publication(request, obj)
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request, obj):
        self._say_publication(request, obj)
        return super().response_change(request, obj)

    def _say_publication(self, request, obj) -> None:
        """After a save, whether readers now see the record, and if not, what to add."""
        if not can_be_draft(self.model):
            return
        reasons = why_draft(obj)
        if reasons:
            self.message_user(
                request,
                f"“{obj}” is saved as a draft: readers do not see it, because "
                + "; ".join(reasons)
                + ". It is published as soon as that is put right.",
                messages.WARNING,
            )
        else:
            url = public_url(obj)
            self.message_user(
                request,
                format_html('“{}” is public: readers see it at <a href="{}">{}</a>.', obj, url, url)
                if url
                else f"“{obj}” is public.",
                messages.INFO,
            )

    def save_formset(self, request, form, formset, change):
        for row in formset.forms:
            if row.instance.pk is not None and (row.has_changed() or row in formset.deleted_forms):
                record_baseline(row.instance)
        super().save_formset(request, form, formset, change)

    def delete_model(self, request, obj):
        record_baseline(obj)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            record_baseline(obj)
        super().delete_queryset(request, queryset)

    def history_view(self, request, object_id, extra_context=None):
        if not str(object_id).isdigit():
            raise Http404("No such record.")
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        """An earlier version, to look at or to revert to (POST)."""
        if not (str(object_id).isdigit() and str(version_id).isdigit()):
            raise Http404("No such version.")
        request.history_version_id = int(version_id)
        try:
            with transaction.atomic():
                return super().history_form_view(request, object_id, version_id, extra_context)
        except IntegrityError as exc:
            return self._refused(request, exc)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        version_id = getattr(request, "history_version_id", None)
        if version_id is None:
            return form
        # simple-history fills the revert form from the live many-to-many rows; show the
        # version's own (it keeps a copy of them), so reverting restores them too.
        version = history_of(self.model).filter(history_id=version_id).first()
        if version is None:
            return form
        earlier = {}
        if issubclass(self.model, Recorded):
            # The version carries the revision it had then; the check against lost updates
            # compares with the record as it is now, as the editor sees it on opening.
            earlier["revision_seen"] = (
                self.model._default_manager.filter(pk=version.instance.pk)
                .values_list("revision", flat=True)
                .first()
            )
        earlier.update(m2m_choices(version))

        class VersionForm(form):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                self.initial.update(earlier)

        return VersionForm

    def _refused(self, request, exc):
        reason = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
        self.message_user(
            request,
            f"Nothing was saved: the database refused the change ({reason}). "
            "Correct it and save again.",
            messages.ERROR,
        )
        return HttpResponseRedirect(request.get_full_path())


@admin.register(Country)
class CountryAdmin(RecordAdmin):
    list_display = ["name", "code", "demonym", "event_count"]
    list_filter = ["disputes"]
    search_fields = ["name", "code", "demonym"]
    inlines = [CitationInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(n_events=count_of(Event, "actor"))

    @admin.display(description="events as actor", ordering="n_events")
    def event_count(self, country):
        return country.n_events


@admin.register(Source)
class SourceAdmin(RecordAdmin):
    list_display = [
        "title",
        "annotate_link",
        "publisher",
        "published_on",
        "sentence_count",
        "citation_count",
    ]
    list_filter = ["disputes", "publisher", "language"]
    search_fields = ["title", "publisher", "author", "url", "archive_url"]
    inlines = [SentenceInline]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "title",
                    ("publisher", "author"),
                    ("published", "published_inferred"),
                    "revision_seen",
                ]
            },
        ),
        ("Where it is", {"fields": ["url", "archive_url", ("captured", "language")]}),
        ("The text as captured", {"fields": ["text", "cut_off_lines", "capture_note"]}),
    ]

    def get_urls(self):
        return [
            path(
                "<path:object_id>/annotate/",
                self.admin_site.admin_view(annotate_view),
                {"model_admin": self},
                name="disputes_source_annotate",
            ),
            *super().get_urls(),
        ]

    @admin.display(description="annotate")
    def annotate_link(self, source):
        url = reverse("admin:disputes_source_annotate", args=[source.pk])
        return format_html('<a href="{}">Annotate</a>', url)

    @admin.display(description="published", ordering="published_year")
    def published_on(self, source):
        return source.published.display() if source.published.known else "-"

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_sentences=count_of(Sentence, "source"),
                n_citations=count_of(Citation, "source"),
            )
        )

    def get_deleted_objects(self, objs, request):
        # A source's sentences go with it, though no one may delete one on its own.
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        perms_needed.discard(Sentence._meta.verbose_name)
        return deleted, counts, perms_needed, protected

    def save_formset(self, request, form, formset, change):
        if formset.model is Sentence and "text" in form.changed_data:
            # Saving the new text has already cut it into new sentences; carry the notes
            # edited in this same save over to the sentence with the same words.
            formset.save(commit=False)  # records what changed, for the change message
            old_text, source = form.initial.get("text", ""), form.instance
            current = {source.text[s.start : s.end]: s for s in source.sentences.all()}
            for sentence_form in formset.forms:
                if not sentence_form.has_changed():
                    continue
                old = sentence_form.instance
                match = current.get(old_text[old.start : old.end])
                if match is not None:
                    match.context_note = sentence_form.cleaned_data["context_note"]
                    match.save(update_fields=["context_note"])
            return
        super().save_formset(request, form, formset, change)

    @admin.display(description="sentences", ordering="n_sentences")
    def sentence_count(self, source):
        return source.n_sentences

    @admin.display(description="quotes", ordering="n_citations")
    def citation_count(self, source):
        return source.n_citations


class CoverageFilter(admin.SimpleListFilter):
    """Every sentence of a source is cited by some record or marked as context; this
    finds the ones that are neither."""

    title = "coverage"
    parameter_name = "coverage"

    def lookups(self, request, model_admin):
        return [
            ("cited", "cited by a record"),
            ("context", "marked as context"),
            ("neither", "neither cited nor context"),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "cited":
            return queryset.filter(cited=True)
        if value == "context":
            return queryset.exclude(context_note="")
        if value == "neither":
            return queryset.filter(cited=False, context_note="")
        return queryset


@admin.register(Sentence)
class SentenceAdmin(admin.ModelAdmin):
    """Sentences are cut from their source's text when it is saved, so an editor neither
    adds nor deletes one (that would change what the coverage check sees); the editor says
    why a sentence is kept as context."""

    list_display = ["__str__", "excerpt", "covered", "context_note"]
    list_filter = ["source", CoverageFilter]
    search_fields = ["source__title", "context_note"]
    fields = ["source", "number", "text", "context_note"]
    readonly_fields = ["source", "number", "text"]

    def view_on_site(self, obj):
        return public_url(obj)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        cited = (
            Citation.objects.filter(source=OuterRef("source"), start__lt=OuterRef("end"))
            .annotate(stop=F("start") + Length("quote"))
            .filter(stop__gt=OuterRef("start"))
        )
        return super().get_queryset(request).select_related("source").annotate(cited=Exists(cited))

    @admin.display(description="text")
    def excerpt(self, sentence):
        text = sentence.text
        return text if len(text) <= 120 else f"{text[:117]}…"

    @admin.display(description="cited", boolean=True, ordering="cited")
    def covered(self, sentence):
        return sentence.cited


@admin.register(Dispute)
class DisputeAdmin(RecordAdmin):
    list_display = ["title", "country_list", "event_count", "link_count"]
    list_filter = ["countries"]
    search_fields = ["title", "summary"]
    autocomplete_fields = ["countries", "sources"]
    inlines = [CitationInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .prefetch_related("countries")
            .annotate(
                n_events=count_of(Event, "dispute"),
                n_links=count_of(RetaliationLink, "cause__dispute"),
            )
        )

    @admin.display(description="countries")
    def country_list(self, dispute):
        return ", ".join(country.name for country in dispute.countries.all())

    @admin.display(description="events", ordering="n_events")
    def event_count(self, dispute):
        url = reverse("admin:disputes_event_changelist")
        return format_html(
            '<a href="{}?dispute__id__exact={}">{}</a>', url, dispute.pk, dispute.n_events
        )

    @admin.display(description="links", ordering="n_links")
    def link_count(self, dispute):
        url = reverse("admin:disputes_retaliationlink_changelist")
        return format_html(
            '<a href="{}?cause__dispute__id__exact={}">{}</a>', url, dispute.pk, dispute.n_links
        )


class PersonDisputeFilter(admin.SimpleListFilter):
    """People in a dispute: named in its events, tried in its cases or held in it."""

    title = "dispute"
    parameter_name = "dispute"

    def lookups(self, request, model_admin):
        return [(str(d.pk), d.title) for d in Dispute.objects.only("pk", "title")]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        try:
            dispute = int(self.value())
        except ValueError:
            return queryset.none()
        person = OuterRef("pk")
        return queryset.filter(
            Exists(Event.people.through.objects.filter(person=person, event__dispute=dispute))
            | Exists(Case.defendants.through.objects.filter(person=person, case__dispute=dispute))
            | Exists(Detention.objects.filter(person=person, dispute=dispute))
        )


@admin.register(Person)
class PersonAdmin(RecordAdmin):
    list_display = ["__str__", "description", "citizenship_list"]
    list_filter = [PersonDisputeFilter, "citizenships"]
    search_fields = ["name", "description"]
    autocomplete_fields = ["citizenships"]
    inlines = [RoleInline, RelationInline, CitationInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("citizenships")

    @admin.display(description="citizenships")
    def citizenship_list(self, person):
        return ", ".join(country.code for country in person.citizenships.all()) or "-"


@admin.register(Role)
class RoleAdmin(RecordAdmin):
    list_display = ["title", "person", "country"]
    list_select_related = ["person", "country"]
    list_filter = ["country"]
    search_fields = ["title", "person__name", "person__description"]
    autocomplete_fields = ["person", "country"]
    inlines = [CitationInline]


@admin.register(PersonRelation)
class PersonRelationAdmin(RecordAdmin):
    list_display = ["__str__", "kind", "detail"]
    list_filter = ["kind"]
    search_fields = ["person__name", "other__name", "detail"]
    autocomplete_fields = ["person", "other"]
    inlines = [CitationInline]


@admin.register(Case)
class CaseAdmin(RecordAdmin):
    list_display = ["title", "dispute", "prosecuting_country", "outcome", "event_count"]
    list_select_related = ["dispute", "prosecuting_country"]
    list_filter = ["dispute", "prosecuting_country", "outcome"]
    search_fields = ["title", "court", "charges", "defendants__name"]
    autocomplete_fields = ["dispute", "prosecuting_country", "defendants"]
    inlines = [EventInline, DetentionInline, CitationInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(n_events=count_of(Event, "case"))

    @admin.display(description="events", ordering="n_events")
    def event_count(self, case):
        return case.n_events


@admin.register(Event)
class EventAdmin(RecordAdmin):
    list_display = ["title", "when", "kind", "actor", "dispute", "provoked_by", "provoked"]
    list_select_related = ["actor", "dispute"]
    list_filter = ["dispute", "actor", "kind", year_filter("date", "year")]
    search_fields = ["title", "summary", "kind", "actor__name", "people__name"]
    autocomplete_fields = ["dispute", "actor", "people", "case", "detention"]
    radio_fields = {"kind": admin.HORIZONTAL}
    inlines = [CitationInline]
    fieldsets = [
        (
            "What happened",
            {"fields": ["dispute", "kind", "title", "actor", "summary", "revision_seen"]},
        ),
        ("When", {"fields": [("date", "date_inferred"), "sequence"]}),
        (
            "Not before: when the source places the event after a known step",
            {"fields": [("not_before", "not_before_inferred")], "classes": ["collapse"]},
        ),
        ("Who and which case", {"fields": ["people", "case", "detention"]}),
        ("Event codes", {"fields": [("cameo_code", "plover_code")]}),
    ]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        dispute = request.GET.get("dispute", "")
        if db_field.name == "actor" and dispute.isdigit():
            # Opened for a dispute (from a source's annotate page): the lane is one click
            # among its states, not a search among all.
            kwargs["queryset"] = Country.objects.filter(disputes=int(dispute))
            kwargs["widget"] = forms.RadioSelect(attrs={"class": "radiolist inline"})
            kwargs["empty_label"] = None
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_provoked=count_of(RetaliationLink, "cause"),
                n_provoked_by=count_of(RetaliationLink, "response"),
            )
        )

    @admin.display(description="date", ordering="date_key")
    def when(self, event):
        return str(event.date)

    @admin.display(description="provoked by", ordering="n_provoked_by")
    def provoked_by(self, event):
        return self._links(event.n_provoked_by, "response", event)

    @admin.display(description="provoked", ordering="n_provoked")
    def provoked(self, event):
        return self._links(event.n_provoked, "cause", event)

    def _links(self, count, end, event):
        if not count:
            return 0
        url = reverse("admin:disputes_retaliationlink_changelist")
        return format_html('<a href="{}?{}__id__exact={}">{}</a>', url, end, event.pk, count)


@admin.register(Detention)
class DetentionAdmin(RecordAdmin):
    list_display = ["__str__", "holding_country", "starts", "ends", "ending", "case", "dispute"]
    list_select_related = ["person", "holding_country", "case", "dispute"]
    list_filter = ["dispute", "holding_country", "ending", year_filter("start", "start year")]
    search_fields = ["person__name", "person__description", "group_description", "place"]
    autocomplete_fields = ["dispute", "person", "holding_country", "case"]
    inlines = [CitationInline]

    @admin.display(description="from", ordering="start_year")
    def starts(self, detention):
        return str(detention.start)

    @admin.display(description="until", ordering="end_year")
    def ends(self, detention):
        return str(detention.end)


class LinkForm(RecordForm):
    """A link between two steps of the same state is most often a slip (the response picked
    from the wrong lane): it is saved only once the editor confirms it. The box appears
    when the question arises, and a link already confirmed is not asked again until its
    cause or response changes."""

    same_state_confirmed = forms.BooleanField(
        required=False,
        label="Same state on both sides: confirmed",
        help_text="Tick only when the source says a state's step provoked another of its own.",
        widget=forms.HiddenInput,
    )

    def clean(self):
        cleaned = super().clean()
        cause, response = cleaned.get("cause"), cleaned.get("response")
        moved = self.instance.pk is None or {"cause", "response"} & set(self.changed_data)
        if (
            moved
            and cause is not None
            and response is not None
            and cause.actor_id == response.actor_id
            and not cleaned.get("same_state_confirmed")
        ):
            self.fields["same_state_confirmed"].widget = forms.CheckboxInput()
            self.add_error(
                "same_state_confirmed",
                f"Both events are in the lane of {cause.actor}: a link usually joins a step "
                "of one state to the other state's response. Check the cause and the "
                "response; if the source says so, tick this box and save again.",
            )
        return cleaned


@admin.register(RetaliationLink)
class RetaliationLinkAdmin(RecordAdmin):
    list_display = ["__str__", "lanes", "evidence", "cause_date", "response_date", "claim_count"]
    list_select_related = ["cause__actor", "response__actor"]
    list_filter = [
        ("cause__dispute", admin.RelatedFieldListFilter),
        "evidence",
        ("cause__actor", admin.RelatedFieldListFilter),
        ("response__actor", admin.RelatedFieldListFilter),
        year_filter("cause__date", "year of the cause"),
    ]
    search_fields = ["cause__title", "response__title", "summary", "claims__claimant"]
    autocomplete_fields = ["cause", "response"]
    radio_fields = {"evidence": admin.VERTICAL}
    inlines = [ClaimInline, CitationInline]
    form = record_form(RetaliationLink, base=LinkForm)
    fieldsets = [
        (
            "Which step provoked which",
            {"fields": ["cause", "response", "same_state_confirmed", "revision_seen"]},
        ),
        ("On what evidence", {"fields": ["evidence", "summary"]}),
    ]
    ordering = [F("cause__date_key").asc(nulls_last=True), "pk"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(n_claims=count_of(Claim, "link"))

    @admin.display(description="lanes")
    def lanes(self, link):
        return f"{link.cause.actor.code} → {link.response.actor.code}"

    @admin.display(description="cause dated", ordering="cause__date_key")
    def cause_date(self, link):
        return str(link.cause.date)

    @admin.display(description="response dated", ordering="response__date_key")
    def response_date(self, link):
        return str(link.response.date)

    @admin.display(description="claims", ordering="n_claims")
    def claim_count(self, link):
        return link.n_claims


@admin.register(Claim)
class ClaimAdmin(RecordAdmin):
    list_display = ["__str__", "link", "stance", "claimant_country", "claimant_person"]
    list_select_related = ["link__cause", "link__response", "claimant_country", "claimant_person"]
    list_filter = [
        ("link__cause__dispute", admin.RelatedFieldListFilter),
        "stance",
        "claimant_country",
    ]
    search_fields = ["claimant", "detail", "link__cause__title", "link__response__title"]
    autocomplete_fields = ["link", "claimant_person", "claimant_country"]
    inlines = [CitationInline]


class CitationForm(forms.ModelForm):
    """A quote edited on its own: it must point at a record that exists, and not cite a
    passage that record already cites."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        types = ContentType.objects.get_for_models(*CITED_MODELS).values()
        self.fields["content_type"].queryset = ContentType.objects.filter(
            pk__in=[ct.pk for ct in types]
        ).order_by("model")
        self.fields["content_type"].label = "kind of record"
        self.fields["object_id"].label = "record ID"

    def clean(self):
        cleaned = super().clean()
        kind, object_id = cleaned.get("content_type"), cleaned.get("object_id")
        if kind and object_id is not None:
            model = kind.model_class()
            if not model._default_manager.filter(pk=object_id).exists():
                self.add_error(
                    "object_id",
                    f"There is no {model._meta.verbose_name} with ID {object_id}: "
                    "check the ID on that record's page.",
                )
        return cleaned

    def _post_clean(self):
        super()._post_clean()  # Citation.clean finds where the quote starts
        citation = self.instance
        if self.errors or citation.start is None:
            return
        clash = Citation.objects.filter(
            content_type=citation.content_type_id,
            object_id=citation.object_id,
            source=citation.source_id,
            start=citation.start,
        ).exclude(pk=citation.pk)
        if clash.exists():
            self.add_error(
                "quote",
                "This record already cites a passage starting here: edit that quote instead.",
            )


@admin.register(Citation)
class CitationAdmin(RecordAdmin):
    form = CitationForm
    formfield_overrides = {
        **RecordAdmin.formfield_overrides,
        models.TextField: {"widget": forms.Textarea(attrs={"rows": 3, "cols": 80})},
    }
    list_display = ["__str__", "source", "kind", "cited_record"]
    list_select_related = ["source", "content_type"]
    list_filter = ["source", ("content_type", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["quote", "source__title"]
    autocomplete_fields = ["source"]
    readonly_fields = ["cited_record", "start"]

    def get_queryset(self, request):
        records = GenericPrefetch("record", [str_ready(model) for model in CITED_MODELS])
        return super().get_queryset(request).prefetch_related(records)

    @admin.display(description="kind of record", ordering="content_type__model")
    def kind(self, citation):
        return citation.content_type.name

    @admin.display(description="record")
    def cited_record(self, citation):
        return admin_link(citation.record) if citation.pk else "-"
