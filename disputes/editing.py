"""What the admin's forms add to the models for editors: dates typed as one field, pickers
that tell records apart, the draft or public state of a record, and the check that keeps
two editors from silently overwriting each other.

The rules themselves stay on the models; this module only puts them in an editor's words.
"""

from __future__ import annotations

from django import forms
from django.contrib.admin.widgets import AutocompleteSelect, AutocompleteSelectMultiple
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import BooleanField, ExpressionWrapper, Q
from django.urls import reverse_lazy
from django.utils.html import format_html, format_html_join

from . import dates
from .dates import FuzzyDate
from .recent_changes import ACTIONS, history_of, m2m_choices

DATE_LABELS = {
    "date": "Date",
    "not_before": "Not before",
    "start": "From",
    "end": "Until",
    "published": "Published",
}


def fuzzy_prefixes(model) -> list[str]:
    """The fuzzy dates of `model`: each prefix whose year, month and day columns exist."""
    names = {field.name for field in model._meta.concrete_fields}
    return [
        name[: -len("_year")]
        for name in names
        if name.endswith("_year")
        and {name.replace("_year", "_month"), name.replace("_year", "_day")} <= names
    ]


def date_parts(prefix: str) -> tuple[str, str, str]:
    return (f"{prefix}_year", f"{prefix}_month", f"{prefix}_day")


class FuzzyDateField(forms.CharField):
    """A fuzzy date typed as words: "2008", "March 2011", "Dec. 28, 2011", "2011-12-28".
    The page shows what it was read as before the editor saves (static/js/admin.js asks
    the admin's parse-date address, which runs the same parser)."""

    def __init__(self, *, label: str, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault(
            "help_text",
            f"As the source gives it: {dates.DATE_EXAMPLES}; empty if it gives none.",
        )
        kwargs.setdefault(
            "widget",
            forms.TextInput(
                attrs={
                    "class": "fuzzy-date",
                    "data-parse-url": reverse_lazy("admin:parse_date"),
                    "autocomplete": "off",
                    "size": 20,
                }
            ),
        )
        super().__init__(label=label, **kwargs)

    def prepare_value(self, value):
        if isinstance(value, FuzzyDate):
            return dates.editable(value)
        return value

    def to_python(self, value) -> FuzzyDate:
        text = super().to_python(value)
        try:
            return dates.parse(text)
        except dates.DateNotUnderstood as exc:
            raise ValidationError(str(exc), code="invalid") from exc

    def has_changed(self, initial, data) -> bool:
        try:
            return self.to_python(data) != self.to_python(self.prepare_value(initial) or "")
        except ValidationError:
            return True


class RecordForm(forms.ModelForm):
    """The admin's form of a record: its fuzzy dates as one field each (the three columns
    behind each stay as they are), and the revision it was opened at."""

    revision_seen = forms.IntegerField(required=False, widget=forms.HiddenInput)
    fuzzy: list[str] = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for prefix in self.fuzzy:
            if prefix in self.fields:
                stored = FuzzyDate.of(self.instance, prefix)
                self.initial.setdefault(prefix, stored)
        if self.instance.pk is not None:
            self.initial.setdefault("revision_seen", self.instance.revision)

    def clean(self):
        cleaned = super().clean()
        self._check_revision(cleaned.get("revision_seen"))
        for prefix in self.fuzzy:
            date = cleaned.get(prefix)
            if prefix in self.fields and isinstance(date, FuzzyDate):
                for part, value in zip(
                    date_parts(prefix), (date.year, date.month, date.day), strict=True
                ):
                    setattr(self.instance, part, value)
        return cleaned

    def _check_revision(self, seen) -> None:
        """Refuse to save over a change made since the form was opened, showing that
        change; the form then holds the new revision, so saving again keeps this one."""
        if self.instance.pk is None or seen is None:
            return
        model = type(self.instance)
        live = model._default_manager.filter(pk=self.instance.pk).values_list("revision", flat=True)
        live = live.first()
        if live is None or live == seen:
            return
        data = self.data.copy()
        data[self.add_prefix("revision_seen")] = str(live)
        self._take_their_changes(data, seen)
        self.data = data
        raise ValidationError(other_change(self.instance, seen), code="edit_conflict")

    def _take_their_changes(self, data, seen) -> None:
        """Put the stored value into `data` for each field this editor left as it was at
        revision `seen` and the other editor changed: saving the form again then keeps
        both changes. A field both changed keeps this editor's value."""
        model = type(self.instance)
        opened = version_at(self.instance, seen)
        if opened is None:
            return
        earlier = m2m_choices(opened)
        for name, field in self.fields.items():
            if name in self.fuzzy:
                then, now = FuzzyDate.of(opened, name), FuzzyDate.of(self.instance, name)
            elif name in earlier:
                then = earlier[name]
                now = list(getattr(self.instance, name).values_list("pk", flat=True))
            elif name in {f.name for f in model._meta.concrete_fields}:
                model_field = model._meta.get_field(name)
                then = model_field.value_from_object(opened.instance)
                now = model_field.value_from_object(self.instance)
            else:
                continue
            key = self.add_prefix(name)
            typed = field.widget.value_from_datadict(self.data, self.files, key)
            if field.has_changed(then, typed) or not field.has_changed(then, _as_data(field, now)):
                continue
            if isinstance(now, list):
                data.setlist(key, [str(pk) for pk in now])
            elif isinstance(field, forms.BooleanField):
                data.pop(key, None)
                if now:
                    data[key] = "on"
            else:
                value = field.prepare_value(now)
                data[key] = "" if value is None else str(value)

    def add_error(self, field, error):
        """A model's rules name a date's columns (date_year, date_day); the form shows
        them on the date's one field."""
        if isinstance(error, ValidationError) and hasattr(error, "error_dict"):
            remapped = {}
            for name, errors in error.error_dict.items():
                remapped.setdefault(self._field_for(name), []).extend(errors)
            error = ValidationError(remapped)
        elif isinstance(error, dict):
            error = {self._field_for(name): value for name, value in error.items()}
        elif field is not None:
            field = self._field_for(field)
        super().add_error(field, error)

    def _field_for(self, name):
        for prefix in self.fuzzy:
            if name in date_parts(prefix) and prefix in self.fields:
                return prefix
        return name


def _as_data(field, value):
    """A stored value as the form would post it."""
    if isinstance(value, list):
        return [str(pk) for pk in value]
    value = field.prepare_value(value)
    return value if isinstance(value, bool) or value is None else str(value)


def record_form(model, base=RecordForm):
    """The admin form class of `model`, with a one-field date for each fuzzy date."""
    prefixes = fuzzy_prefixes(model)
    attrs = {
        prefix: FuzzyDateField(label=DATE_LABELS.get(prefix, prefix.replace("_", " ")))
        for prefix in prefixes
    }
    attrs["fuzzy"] = prefixes
    attrs["Meta"] = type(
        "Meta",
        (),
        {
            "model": model,
            "exclude": [p for x in prefixes for p in date_parts(x)],
            "formfield_callback": _formfield,
        },
    )
    return type(f"{model.__name__}Form", (base,), attrs)


def _formfield(db_field, **kwargs):
    """The admin builds its own fields (formfield_overrides); this only keeps the class's
    first build quiet about Django 6's default URL scheme."""
    if isinstance(db_field, models.URLField):
        kwargs.setdefault("assume_scheme", "https")
    return db_field.formfield(**kwargs)


# Pickers -------------------------------------------------------------------------------


def picker_label(obj) -> str:
    """What a picker shows of a record, so that two "Detention" events are told apart:
    its date, its lane (the acting state) and its kind beside its title; and "draft" when
    the admin's list read that it is one."""
    label = _picker_label(obj)
    return f"{label} · draft" if getattr(obj, "is_public", True) is False else label


def _picker_label(obj) -> str:
    from .models import Case, Detention, Event, Person, RetaliationLink

    if isinstance(obj, Event):
        return (
            f"{obj.title} · {obj.date.display()} · {obj.actor.code} lane · {obj.get_kind_display()}"
        )
    if isinstance(obj, RetaliationLink):
        return (
            f"{obj.cause.title} ({obj.cause.date.display()}, {obj.cause.actor.code}) → "
            f"{obj.response.title} ({obj.response.date.display()}, {obj.response.actor.code})"
        )
    if isinstance(obj, Detention):
        return f"{obj} · from {obj.start.display()} · {obj.get_ending_display()}"
    if isinstance(obj, Case):
        return f"{obj.title} · {obj.prosecuting_country.code} · {obj.get_outcome_display()}"
    if isinstance(obj, Person) and obj.name:
        return f"{obj.name} · {obj.description}"
    return str(obj)


# What each picker's label reads from other tables.
PICKER_RELATED = {
    "event": ["actor"],
    "retaliationlink": ["cause__actor", "response__actor"],
    "detention": ["person", "holding_country"],
    "case": ["prosecuting_country"],
}


class KeysOnly:
    """Django's autocomplete widgets look up the value posted to show it again; a value that
    is no key at all (a hand-edited or garbled form) made that lookup a server error. Such a
    value is shown as nothing picked, and the field's own check says what is wrong."""

    def optgroups(self, name, value, attr=None):
        remote = self.field.remote_field
        opts = remote.model._meta
        key = opts.get_field(getattr(remote, "field_name", None) or opts.pk.name)
        kept = []
        for item in value:
            try:
                key.to_python(item)
            except ValidationError:
                continue
            kept.append(item)
        return super().optgroups(name, kept, attr)


class PickerSelect(KeysOnly, AutocompleteSelect):
    pass


class PickerSelectMultiple(KeysOnly, AutocompleteSelectMultiple):
    pass


class PickerWidgets:
    """Admin (and inline) mixin: its autocomplete fields use the widgets above."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = PickerSelect(db_field, self.admin_site, using=kwargs.get("using"))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = PickerSelectMultiple(
                db_field, self.admin_site, using=kwargs.get("using")
            )
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class PickerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return picker_label(obj)


class PickerMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return picker_label(obj)


# Drafts --------------------------------------------------------------------------------


def can_be_draft(model) -> bool:
    """Whether `model` has drafts at all: countries and sources are always public."""
    condition = getattr(model, "public_condition", None)
    return condition is not None and condition() != Q()


def public_flag(model):
    """`is_public` for each row, read with it."""
    return ExpressionWrapper(model.public_condition(), output_field=BooleanField())


def why_draft(obj) -> list[str]:
    """What keeps `obj` from readers, in an editor's words; empty when it is public."""
    from .models import Citation

    model = type(obj)
    if obj.pk is None or not can_be_draft(model):
        return []
    if model._default_manager.public().filter(pk=obj.pk).exists():
        return []
    reasons = []
    if not Citation.objects.filter(
        content_type=ContentType.objects.get_for_model(model), object_id=obj.pk
    ).exists():
        reasons.append("it has no quote yet: add one under “quotes” below")
    for field in model._meta.concrete_fields:
        related = field.related_model if field.is_relation else None
        if related is None or not can_be_draft(related):
            continue
        value = getattr(obj, field.name)
        if value is not None and not related._default_manager.public().filter(pk=value.pk).exists():
            reasons.append(f"its {field.verbose_name} “{value}” is a draft too")
    return reasons or ["something it belongs to is a draft"]


# Lost updates --------------------------------------------------------------------------


def version_at(obj, revision: int | None = None):
    """The latest version of `obj` in its edit history, or the latest at `revision`."""
    model = type(obj)
    if history_of(model) is None:
        return None
    versions = history_of(model).filter(**{model._meta.pk.attname: obj.pk})
    if revision is not None:
        versions = versions.filter(revision__lte=revision)
    return versions.order_by("-history_date", "-history_id").first()


def other_change(obj, seen: int):
    """What another editor changed in `obj` since revision `seen`, as HTML for the form's
    error: who, when, and each field from what to what (from the edit history)."""
    from .models import Citation

    model = type(obj)
    history = history_of(model)
    lines, who, when = [], "another editor", None
    if history is not None:
        theirs = version_at(obj)
        base = version_at(obj, seen)
        if theirs is not None:
            if theirs.history_user is not None:
                who = theirs.history_user.get_username()
            when = theirs.history_date
            if base is not None and base.pk != theirs.pk:
                for change in theirs.diff_against(base).changes:
                    if change.field in {"last_changed", "revision", "cited"}:
                        continue
                    label = model._meta.get_field(change.field).verbose_name
                    lines.append((label, _short(change.old), _short(change.new)))
        if base is not None:
            quotes = Citation.history.filter(
                content_type=ContentType.objects.get_for_model(model),
                object_id=obj.pk,
                history_date__gt=base.history_date,
            ).order_by("history_date")
            for quote in quotes:
                lines.append((f"quote {ACTIONS[quote.history_type]}", "", _short(quote.quote)))
    changes = (
        format_html_join(
            "",
            "<li><strong>{}</strong>: {} → {}</li>",
            ((label, old or "(empty)", new or "(empty)") for label, old, new in lines),
        )
        if lines
        else format_html("<li>{}</li>", "the change is not in the edit history")
    )
    stamp = f" at {when:%H:%M:%S on %d %b %Y} UTC" if when else ""
    return format_html(
        "<p>{} saved this {} after you opened it{}. Nothing of yours was saved; your edits are "
        "still in the form below, and what you had left alone now holds their version. Their "
        "change:</p><ul>{}</ul><p>Compare, adjust the form if needed, and save again to keep "
        "both changes (where you both changed a field, yours).</p>",
        who,
        model._meta.verbose_name,
        stamp,
        changes,
    )


def _short(value) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= 120 else f"{text[:117]}…"
