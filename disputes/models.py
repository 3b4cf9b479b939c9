"""The record: states, people, cases, detentions, events and the links said to join them.

Every fact is tied to the sentence that supports it through a Citation. The rules of the
domain are check and unique constraints (and, for rules that span two tables, triggers in
disputes/triggers.py), so they hold for fixtures, the admin and the shell alike; `clean()` reports
the same rules to editors in words that say what to fix.
"""

from __future__ import annotations

import re
from contextlib import suppress
from functools import cache

from django.contrib.contenttypes.fields import GenericForeignKey, GenericRelation
from django.contrib.contenttypes.models import ContentType
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Exists, ExpressionWrapper, F, Func, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce, Now
from django.db.models.lookups import GreaterThanOrEqual, LessThanOrEqual
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from simple_history.models import HistoricalRecords

from . import dates
from .dates import FuzzyDate
from .ladder import ASSERTED_EVIDENCE, ASSERTING  # the ladder's marks say which links are asserted

LANGUAGE_TAG = RegexValidator(
    r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*\Z", 'Use a language code such as "en", "ru" or "pt-BR".'
)
LINE_NUMBERS = RegexValidator(
    r"^(\d+(, *\d+)*)?\Z", 'List line numbers separated by commas, e.g. "2, 9".'
)
CAMEO_CODE = RegexValidator(
    r"^[0-2][0-9]{1,3}\Z", 'A CAMEO code is 2 to 4 digits from "01" to "20", e.g. "173".'
)
# The sixteen event types of PLOVER (Political Language Ontology for Verifiable Event
# Records), in its order, from cooperation to conflict.
PLOVER_TYPES = [
    (name, name.lower())
    for name in [
        "AGREE",
        "CONSULT",
        "SUPPORT",
        "CONCEDE",
        "COOPERATE",
        "AID",
        "RETREAT",
        "REQUEST",
        "ACCUSE",
        "REJECT",
        "THREATEN",
        "PROTEST",
        "SANCTION",
        "MOBILIZE",
        "COERCE",
        "ASSAULT",
    ]
]
COUNTRY_CODE = RegexValidator(
    r"^[A-Z]{2}\Z", "Use the ISO 3166-1 alpha-2 code: two capital letters, such as RU or TJ."
)


class PublicQuerySet(models.QuerySet):
    """What readers may see. A record that no citation supports is a draft: editors see it
    (marked) in the admin; every public surface (pages, fragments, the ladder, search) reads
    through `public()`, so a draft appears nowhere else. A record that hangs off another
    (an event off its dispute, a link off its two events) is public only when that one is."""

    def public(self):
        return self.filter(self.model.public_condition())

    def with_public_flags(self, *relations: str):
        """`<relation>_is_public` on each row, for each foreign key in `relations`: whether
        the record it points at may be shown (a public event may name a draft case: the
        page then leaves the case out), read with the row."""
        return self.annotate(
            **{
                f"{name}_is_public": ExpressionWrapper(
                    public_at(self.model._meta.get_field(name).related_model, name),
                    output_field=models.BooleanField(),
                )
                for name in relations
            }
        )


def public_at(model, foreign_key: str) -> Q:
    """`model`'s public condition seen from the rows whose `foreign_key` (a path such as
    "link") points at it: "cited" becomes "link__cited", and so on down its own relations."""

    def prefixed(condition):
        if isinstance(condition, Q):
            clone = condition.copy()
            clone.children = [prefixed(child) for child in condition.children]
            return clone
        lookup, value = condition
        return (f"{foreign_key}__{lookup}", value)

    return prefixed(model.public_condition())


class Recorded(models.Model):
    """A part of the record readers see, with when it last changed: set on every save
    (the admin saves the record whenever anything of it changes, its quotes included) and
    when a citation of it is added, changed or removed (Citation.save and delete)."""

    last_changed = models.DateTimeField(
        auto_now=True,
        # A row written without it (a fixture that predates the field, raw SQL) gets the time
        # of its writing from the database.
        db_default=Now(),
        help_text="When this record or one of its citations last changed.",
    )
    # Against lost updates: it rises with every save (and with every change to the record's
    # quotes), and the admin saves an edit only if the record still has the revision the
    # editor's form was opened at (admin.RecordAdmin.save_model). Not RecordVersion, which
    # is the page cache's single number for the whole record.
    revision = models.PositiveIntegerField(
        default=1, editable=False, help_text="Rises with every change to this record."
    )

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            self.revision = (self.revision or 0) + 1
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], "revision"}
        super().save(*args, **kwargs)

    @property
    def latest_change(self):
        """When what this record's page shows last changed: the record, its quotes included
        (a dispute adds its steps and links: Dispute.latest_change)."""
        return self.last_changed


class PermalinkMixin:
    """Permalinks carry the primary key; the slug is for humans and may change with a rename."""

    url_name: str

    @property
    def slug(self) -> str:
        return slugify(str(self))[:80].strip("-") or "item"

    def get_absolute_url(self) -> str:
        return reverse(self.url_name, kwargs={"pk": self.pk, "slug": self.slug})


INFERRED_HELP = (
    "If any part of the date is not stated in the source, say which part and why, "
    'e.g. "year: the article reports it as recent news after the March 2011 events".'
)


# The columns of a fuzzy date (fuzzy_date_fields), each named after its prefix.
DATE_PARTS = ("year", "month", "day", "inferred")


def fuzzy_date_fields(
    prefix: str,
    label: str,
    *,
    year_help: str = "Leave empty if the source gives no year.",
    inferred_label: str | None = None,
    inferred_help: str = INFERRED_HELP,
):
    """The four columns of one fuzzy date (see dates.py)."""
    return {
        f"{prefix}_year": models.PositiveSmallIntegerField(
            f"{label} year",
            null=True,
            blank=True,
            help_text=year_help,
        ),
        f"{prefix}_month": models.PositiveSmallIntegerField(
            f"{label} month", null=True, blank=True, help_text="1-12; empty if not given."
        ),
        f"{prefix}_day": models.PositiveSmallIntegerField(
            f"{label} day", null=True, blank=True, help_text="1-31; empty if not given."
        ),
        f"{prefix}_inferred": models.CharField(
            inferred_label or f"{label} inferred",
            max_length=500,
            blank=True,
            help_text=inferred_help,
        ),
    }


class CitedRecord(Recorded):
    """A part of the record that readers see only once a citation supports it (until then it
    is a draft). `cited` says whether one does: the database keeps it, whatever writes the
    citations or the record (disputes/triggers.py), so that "public" is a test of columns
    read with the rows, not a search of the citations for each of them."""

    cited = models.BooleanField(
        default=False,
        editable=False,
        help_text="Whether some citation supports this record: kept by the database.",
    )

    class Meta:
        abstract = True


class Country(PermalinkMixin, Recorded):
    code = models.CharField(
        "ISO code",
        max_length=2,
        unique=True,
        validators=[COUNTRY_CODE],
        help_text="ISO 3166-1 alpha-2, e.g. RU.",
    )
    name = models.CharField(max_length=100, unique=True)
    demonym = models.CharField(max_length=100, help_text='e.g. "Tajik".')
    citations = GenericRelation("Citation")
    history = HistoricalRecords()

    url_name = "disputes:country"

    objects = PublicQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "countries"
        constraints = [
            models.CheckConstraint(
                # \Z, not $: in Python's re (SQLite's REGEXP) $ also matches before a
                # trailing newline, and SQLite does not enforce max_length.
                condition=Q(code__regex=r"^[A-Z]{2}\Z"),
                name="country_code_alpha2",
                violation_error_message="Use the ISO 3166-1 alpha-2 code: two capital letters.",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def public_condition(cls) -> Q:
        """A state is reference data (its code and name), not a claim: always public."""
        return Q()


class Source(PermalinkMixin, Recorded):
    title = models.CharField(max_length=300)
    publisher = models.CharField(max_length=200)
    author = models.CharField(
        max_length=300, blank=True, help_text="As the source names them; empty when not named."
    )
    locals().update(
        fuzzy_date_fields(
            "published",
            "published",
            year_help="Leave empty when the captured text gives no date.",
            inferred_help="If any part of the date is not stated by the source, say which and why.",
        )
    )
    language = models.CharField(
        max_length=20,
        blank=True,
        validators=[LANGUAGE_TAG],
        help_text='The language of the text, as a code: "en", "ru", "tg".',
    )
    url = models.URLField(
        "original URL", blank=True, help_text="Where it was published; empty when not known."
    )
    archive_url = models.URLField(
        "archive URL",
        blank=True,
        help_text="A lasting copy, such as a Wayback Machine link (web.archive.org/web/...).",
    )
    captured = models.DateField(
        "capture date", null=True, blank=True, help_text="When the text below was captured."
    )
    text = models.TextField(
        "text as captured", help_text="The full text as captured. Quotes must match it exactly."
    )
    cut_off_lines = models.CharField(
        "cut-off lines",
        max_length=200,
        blank=True,
        validators=[LINE_NUMBERS],
        help_text=(
            'The lines of the text that end mid-sentence because the capture cut them, e.g. "2, 9": '
            "marked once here, for every quote of them."
        ),
    )
    capture_note = models.TextField(
        blank=True, help_text="What is known to be missing or cut off in the captured text."
    )
    history = HistoricalRecords()

    url_name = "disputes:source"

    objects = PublicQuerySet.as_manager()

    class Meta:
        ordering = ["title"]
        constraints = [
            models.CheckConstraint(
                # Fixtures and imports skip URLField's validator; a javascript: address must
                # not reach a page as a link.
                condition=Q(url="") | Q(url__startswith="http://") | Q(url__startswith="https://"),
                name="source_url_is_web_address",
                violation_error_message=(
                    "Give the source's address as an http:// or https:// URL, or leave it empty."
                ),
            ),
            models.CheckConstraint(
                condition=Q(archive_url="")
                | Q(archive_url__startswith="http://")
                | Q(archive_url__startswith="https://"),
                name="source_archive_url_is_web_address",
                violation_error_message=(
                    "Give the archived copy's address as an http:// or https:// URL, or leave "
                    "it empty."
                ),
            ),
            *dates.shape_constraints("published", "source", "publication date"),
        ]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs):
        previous = getattr(self, "_stored_text", None)
        super().save(*args, **kwargs)
        if previous != self.text:
            from .sources import relocate_citations, sync_sentences

            sync_sentences(self, previous_text=previous)
            relocate_citations(self)
        self._stored_text = self.text

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._stored_text = instance.__dict__.get("text")
        return instance

    @property
    def published(self) -> FuzzyDate:
        return FuzzyDate.of(self, "published")

    @property
    def cut_off_line_numbers(self) -> list[int]:
        """The lines (1 = the first) that the capture cut off mid-sentence."""
        return sorted({int(n) for n in re.findall(r"\d+", self.cut_off_lines)})

    def cut_off_ends(self) -> set[int]:
        """The offsets in the text where a cut-off line ends."""
        ends, offset = {}, 0
        for number, line in enumerate(self.text.split("\n"), start=1):
            offset += len(line)
            ends[number] = offset
            offset += 1
        return {ends[n] for n in self.cut_off_line_numbers if n in ends}

    def clean(self) -> None:
        problem = self.published.validate()
        if problem:
            raise ValidationError({"published_day": problem})
        lines = self.text.count("\n") + 1
        beyond = [n for n in self.cut_off_line_numbers if not 1 <= n <= lines]
        if beyond:
            raise ValidationError(
                {
                    "cut_off_lines": f"The text has {lines} lines; there is no line "
                    + ", ".join(map(str, beyond))
                    + ". Count the lines of the text as captured, the first being 1."
                }
            )
        if self.pk is None:
            return
        lost = [
            citation.quote
            for citation in Citation.objects.filter(source=self).only("quote")
            if citation.quote not in self.text
        ]
        if lost:
            raise ValidationError(
                {
                    "text": "The new text drops passages that records quote: "
                    + "; ".join(f"“{quote[:80]}”" for quote in lost)
                    + ". Keep them, or correct those citations first."
                }
            )

    @classmethod
    def public_condition(cls) -> Q:
        """A source is the evidence itself: always public, whatever cites it so far."""
        return Q()


class Sentence(models.Model):
    """A sentence of a source's text, so that a reader can be pointed at it and so that no
    sentence is silently dropped: each is cited by some record or marked as context."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="sentences")
    number = models.PositiveIntegerField()
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    context_note = models.CharField(
        max_length=500,
        blank=True,
        help_text="Set when the sentence is deliberately not turned into data, saying why.",
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["source", "number"]
        # Every quote finds its sentence by position: the sentence that starts at or before it.
        indexes = [models.Index(fields=["source", "start"])]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "number"],
                name="sentence_unique_number",
                violation_error_message="This source already has a sentence with that number.",
            ),
            models.CheckConstraint(
                condition=Q(end__gt=F("start")),
                name="sentence_not_empty",
                violation_error_message="A sentence must end after it starts: check its offsets.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source} §{self.number}"

    @property
    def text(self) -> str:
        return self.source.text[self.start : self.end]

    @property
    def anchor(self) -> str:
        return f"s{self.number}"


class DisputeQuerySet(PublicQuerySet):
    def with_chain_changes(self):
        """`steps_changed` and `links_changed` on each dispute: when its latest step and its
        latest link changed (None when it has none), read with the dispute, one index look-up
        each. Drafts count: a step that stops being public changes as it goes (its citation
        removed), and the page changes with it."""
        latest = [
            Subquery(
                model.objects.filter(dispute=OuterRef("pk"))
                .order_by("-last_changed")
                .values("last_changed")[:1]
            )
            for model in (Event, RetaliationLink)
        ]
        return self.annotate(steps_changed=latest[0], links_changed=latest[1])


class Dispute(PermalinkMixin, CitedRecord):
    title = models.CharField(max_length=200, unique=True)
    summary = models.TextField(blank=True)
    countries = models.ManyToManyField(
        Country, related_name="disputes", help_text="The states in the dispute: two or more."
    )
    sources = models.ManyToManyField(Source, related_name="disputes", blank=True)
    citations = GenericRelation("Citation")
    history = HistoricalRecords(m2m_fields=[countries, sources])

    url_name = "disputes:dispute"

    objects = DisputeQuerySet.as_manager()

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title

    @property
    def latest_change(self):
        """A dispute's pages show its chain: they change when one of its steps or links does
        (or is deleted: chain_shortened), as much as when the dispute itself does. Read
        through DisputeQuerySet.with_chain_changes, as every surface that shows it does;
        without it, the dispute's own date."""
        chain = [getattr(self, name, None) for name in ("steps_changed", "links_changed")]
        return max([self.last_changed, *(change for change in chain if change is not None)])

    @classmethod
    def public_condition(cls) -> Q:
        return Q(cited=True)

    def step_url(self, event_pk: int) -> str:
        """This dispute with one of its steps selected: the address a walk pushes, which a
        reload, a new tab or a browser without JavaScript opens as the same view."""
        return f"{self.get_absolute_url()}events/{event_pk}/"


def chain_shortened(sender, instance, **kwargs):
    """A step or a link deleted changes its dispute's pages, and no row is left to say when
    (Dispute.latest_change): the dispute itself says it (apps.py connects this)."""
    Dispute.objects.filter(pk=instance.dispute_id).update(last_changed=timezone.now())


def step_moved(sender, instance, raw=False, using=None, update_fields=None, **kwargs):
    """A step moved to another dispute leaves its old dispute's chain shorter, and no row
    of that chain is left to say when: as for a deletion, the old dispute says it (one
    query per saved step, on the step's database; apps.py connects this before each save
    of an Event). Not for a fixture's rows (raw), which are the record as it is loaded."""
    if raw or instance._state.adding:
        return
    if update_fields is not None and not {"dispute", "dispute_id"} & update_fields:
        return
    Dispute.objects.using(using).filter(
        pk__in=sender._default_manager.using(using)
        .filter(pk=instance.pk)
        .exclude(dispute_id=instance.dispute_id)
        .values("dispute_id")
    ).update(last_changed=timezone.now())


class Person(PermalinkMixin, CitedRecord):
    name = models.CharField(
        max_length=200, blank=True, help_text="Empty when the source does not name the person."
    )
    description = models.CharField(
        max_length=300,
        help_text='How the source describes the person, e.g. "a Russian pilot".',
    )
    citizenships = models.ManyToManyField(Country, related_name="citizens", blank=True)
    citations = GenericRelation("Citation")
    history = HistoricalRecords(m2m_fields=[citizenships])

    url_name = "disputes:person"

    objects = PublicQuerySet.as_manager()

    class Meta:
        ordering = ["name", "description"]
        verbose_name_plural = "people"
        indexes = [models.Index(fields=["name"])]
        constraints = [
            models.CheckConstraint(
                condition=~Q(description=""),
                name="person_described",
                violation_error_message=(
                    'Describe the person as the source does, e.g. "a Russian pilot".'
                ),
            )
        ]

    def __str__(self) -> str:
        return self.name or f"{self.description} (not named in the source)"

    @property
    def named(self) -> bool:
        return bool(self.name)

    @classmethod
    def public_condition(cls) -> Q:
        return Q(cited=True)


class Role(CitedRecord):
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="roles")
    title = models.CharField(max_length=300, help_text='e.g. "head of the national railroad".')
    country = models.ForeignKey(
        Country, on_delete=models.PROTECT, null=True, blank=True, related_name="roles"
    )
    note = models.CharField(
        max_length=500,
        blank=True,
        help_text="What the source leaves implicit (e.g. the country of a title), and why.",
    )
    citations = GenericRelation("Citation")
    history = HistoricalRecords()

    objects = PublicQuerySet.as_manager()

    class Meta:
        ordering = ["person", "title"]
        constraints = [
            models.UniqueConstraint(
                fields=["person", "title"],
                name="role_unique_per_person",
                violation_error_message="This person already has that role.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.person}: {self.title}"

    @classmethod
    def public_condition(cls) -> Q:
        return Q(cited=True) & public_at(Person, "person")


class PersonRelation(CitedRecord):
    class Kind(models.TextChoices):
        PARENT = "parent", "parent of"
        ALLY = "ally", "political ally of"
        COUNSEL = "counsel", "lawyer of"
        COLLEAGUE = "colleague", "colleague of"

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="relations_from")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    other = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="relations_to")
    detail = models.CharField(max_length=300, blank=True)
    citations = GenericRelation("Citation")
    history = HistoricalRecords()

    objects = PublicQuerySet.as_manager()

    class Meta:
        ordering = ["person", "kind"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(person=F("other")),
                name="relation_not_to_self",
                violation_error_message="A person cannot be related to themselves: pick another person.",
            ),
            models.UniqueConstraint(
                fields=["person", "kind", "other"],
                name="relation_unique",
                violation_error_message="This relation is already recorded.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person} is {self.get_kind_display()} {self.other}"

    @classmethod
    def public_condition(cls) -> Q:
        return Q(cited=True) & public_at(Person, "person") & public_at(Person, "other")


class Case(PermalinkMixin, CitedRecord):
    class Outcome(models.TextChoices):
        PENDING = "pending", "pending"
        CONVICTED = "convicted", "convicted"
        ACQUITTED = "acquitted", "acquitted (conviction overturned)"
        DISMISSED = "dismissed", "dismissed"
        UNKNOWN = "unknown", "not stated in the source"

    dispute = models.ForeignKey("Dispute", on_delete=models.PROTECT, related_name="cases")
    title = models.CharField(max_length=200)
    prosecuting_country = models.ForeignKey(Country, on_delete=models.PROTECT, related_name="cases")
    court = models.CharField(
        "court or authority", max_length=200, blank=True, help_text="Empty when not stated."
    )
    defendants = models.ManyToManyField(Person, related_name="cases", blank=True)
    charges = models.CharField(max_length=300, blank=True)
    sentence = models.CharField(
        max_length=200,
        blank=True,
        help_text='As the source states it, e.g. "9 1/2 years in prison".',
    )
    sentence_months = models.PositiveIntegerField(
        "sentence in months",
        null=True,
        blank=True,
        help_text='The sentence as a number of months ("9 1/2 years" is 114); empty when '
        "the source gives none or no length.",
    )
    outcome = models.CharField(max_length=20, choices=Outcome.choices, default=Outcome.UNKNOWN)
    citations = GenericRelation("Citation")
    history = HistoricalRecords(m2m_fields=[defendants])

    url_name = "disputes:case"

    objects = PublicQuerySet.as_manager()

    class Meta:
        ordering = ["title"]
        indexes = [models.Index(fields=["dispute", "title"])]

    def __str__(self) -> str:
        return self.title

    @classmethod
    def public_condition(cls) -> Q:
        return Q(cited=True) & public_at(Dispute, "dispute")


NOT_BEFORE_NEEDS_DATE = (
    "A not-before date needs the event's own date: give the date's year (marked as inferred, "
    "with the reason, if the source does not state it), or clear the not-before date."
)
NOT_BEFORE_NEEDS_REASON = (
    "Say why the event is not before that date: which step of the source it follows, "
    'e.g. "after the pilots\' detention in March 2011 (line 4)".'
)


# What a step named beside another shows (the previous and the next, a link's ends): its title,
# its date with any bound and its place in time order; not its summary, codes or bookkeeping.
NEIGHBOUR_FIELDS = (
    *(f"{date}_{part}" for date in ("date", "not_before") for part in DATE_PARTS),
    *("title", "dispute", "date_key", "sequence"),
)


# What a step panel (and its page's title, description and JSON-LD) shows of the records an
# event names: their names and titles, which their permalinks' slugs are made of too. A field
# read beyond these costs a query: the query-count tests of the event and dispute pages would
# see it.
STEP_RELATED_FIELDS = (
    *("dispute__title", "actor__code", "actor__name", "case__title"),
    *("detention__group_description", "detention__holding_country__name"),
    *("detention__person__name", "detention__person__description"),
)


class EventQuerySet(PublicQuerySet):
    """Time order is the order of the event index: date_key (undated steps last), then
    sequence, then pk. The neighbours of a step are read as ranges of that index."""

    def in_time_order(self):
        return self.order_by(F("date_key").asc(nulls_last=True), "sequence", "pk")

    def of_detention(self, detention: Detention):
        """The steps of a detention: those that name it, and, for one person's detention,
        the steps that name no detention but name the person among their people, taken by
        the holding country in the same dispute (one step about two pilots names neither of
        their detentions, yet is a step of both). A person held twice by one country in one
        dispute shares such steps between the two: a step names its detention to be one's."""
        own = Q(detention=detention)
        if not detention.person_id:
            return self.filter(own)
        through = self.model.people.through.objects.filter(person_id=detention.person_id)
        return self.filter(
            own
            | Q(
                detention__isnull=True,
                dispute_id=detention.dispute_id,
                actor_id=detention.holding_country_id,
                pk__in=through.values("event_id"),
            )
        )

    def as_neighbours(self):
        """Only NEIGHBOUR_FIELDS of each step. A field read beyond these costs a query per
        row: the query-count tests would see it."""
        return self.only(*NEIGHBOUR_FIELDS)

    def public_in_public_dispute(self):
        """The public steps, for a query that keeps to one dispute already known to be public
        (step_before and step_after keep to the dispute of an event read through public()):
        there Event.public_condition reduces to "cited", as in ClaimQuerySet.public_of, and
        checking the dispute again would join every step to it."""
        return self.filter(cited=True)

    def for_step(self):
        """What a step panel shows of the event itself, read with it: all of the event, and
        of the records it names what the panel writes of them (STEP_RELATED_FIELDS). Its
        people and quotes are read by chain.step: for one event, prefetch_related's
        bookkeeping costs more than the queries."""
        own = [field.name for field in self.model._meta.concrete_fields]
        return (
            self.select_related(
                "dispute", "actor", "case", "detention__person", "detention__holding_country"
            )
            .only(*own, *STEP_RELATED_FIELDS)
            .with_public_flags("case", "detention")
        )

    def step_after(self, event: Event) -> Event | None:
        """The step after `event` in its dispute's time order: two index look-ups at most."""
        undated = Q(dispute_id=event.dispute_id, date_key__isnull=True)
        if event.date_key is None:
            return self._first(undated & Q(sequence__gte=event.sequence) & _later_in_day(event))
        # date_key__gte bounds the index range; the rest orders the steps of the same day.
        later = Q(dispute_id=event.dispute_id, date_key__gte=event.date_key) & (
            Q(date_key__gt=event.date_key) | _later_in_day(event)
        )
        return self._first(later, "date_key") or self._first(undated)

    def step_before(self, event: Event) -> Event | None:
        """The step before `event` in its dispute's time order."""
        dated = Q(dispute_id=event.dispute_id, date_key__isnull=False)
        if event.date_key is None:
            earlier = Q(
                dispute_id=event.dispute_id, date_key__isnull=True, sequence__lte=event.sequence
            ) & _earlier_in_day(event)
            return self._first(earlier, descending=True) or self._first(
                dated, "date_key", descending=True
            )
        earlier = (
            dated
            & Q(date_key__lte=event.date_key)
            & (Q(date_key__lt=event.date_key) | _earlier_in_day(event))
        )
        return self._first(earlier, "date_key", descending=True)

    def _first(self, condition: Q, *by: str, descending: bool = False) -> Event | None:
        """The first step that meets `condition` in the order of `by`, sequence and pk (or
        the last, `descending`): one filter, one ordering, one row."""
        order = [f"-{name}" if descending else name for name in (*by, "sequence", "pk")]
        return self.filter(condition).order_by(*order).first()

    def steps_before(self, event: Event) -> int:
        """How many steps come before `event` in its dispute's time order (one count on the
        event index): where the ladder's pages put it."""
        steps = self.filter(dispute_id=event.dispute_id)
        if event.date_key is None:
            earlier = Q(date_key__isnull=False) | (
                Q(date_key__isnull=True) & _earlier_in_day(event)
            )
        else:
            earlier = Q(date_key__lt=event.date_key) | (
                Q(date_key=event.date_key) & _earlier_in_day(event)
            )
        return steps.filter(earlier).count()

    def reached_from(self, event: Event, depth: int, limit: int):
        """The events the chain reaches from `event`, back through causes and on through
        responses: up to `limit` each way, nearest first, each with `way` ("back" or "on"),
        `distance` (links away) and `actor_name`. A recursive query, which the ORM cannot
        write; branches and merges are followed, and a loop stops at the depth limit."""
        links, link_params = _public_links_sql(self.db)
        walks = [
            f"""{way}_walk(id, distance) AS (
                SELECT CAST(%s AS BIGINT), 0
                UNION SELECT l.{step}, w.distance + 1
                FROM ({links}) l JOIN {way}_walk w ON l.{join} = w.id
                WHERE w.distance < %s
            )"""
            for way, step, join in (
                ("back", "cause_id", "response_id"),
                ("on", "response_id", "cause_id"),
            )
        ]
        # Each step reached with what a neighbour shows of it (the rest is deferred), the
        # first `limit` each way: the events are joined once for both ways (PostgreSQL reads
        # them once, not twice), and each way is ranked apart.
        columns = ", ".join(
            f"e.{self.model._meta.get_field(name).column}" for name in ("id", *NEIGHBOUR_FIELDS)
        )
        sql = f"""WITH RECURSIVE {", ".join(walks)}, near(way, id, distance) AS (
                SELECT 'back', id, MIN(distance) FROM back_walk WHERE id <> %s GROUP BY id
                UNION ALL SELECT 'on', id, MIN(distance) FROM on_walk WHERE id <> %s GROUP BY id
            ) SELECT * FROM (
                SELECT {columns}, near.way, near.distance, c.name AS actor_name,
                    ROW_NUMBER() OVER (PARTITION BY near.way ORDER BY near.distance,
                        e.date_key IS NULL, e.date_key, e.sequence, e.id) AS place
                FROM near JOIN disputes_event e ON e.id = near.id
                JOIN disputes_country c ON c.id = e.actor_id
            ) AS reached WHERE place <= %s ORDER BY way, place"""
        params = [*[event.pk, *link_params, depth] * 2, event.pk, event.pk, limit]
        return self.raw(sql, params)


@cache
def _public_links_sql(using: str) -> tuple[str, tuple]:
    """The links a walk may take, as SQL for database `using`: the public ones, as
    RetaliationLink.objects.public() says (a walk never passes through a draft, nor reaches
    one: a public link's ends are), that someone asserts (walkable). Compiled once per
    database: the rule is code, the same for every request, and compiling it was a sixth of
    walking a chain."""
    return (
        RetaliationLink.objects.public()
        .walkable()
        .order_by()
        .values("cause_id", "response_id")
        .query.get_compiler(using=using)
        .as_sql()
    )


def _later_in_day(event: Event) -> Q:
    """Steps after `event` among those that share its date_key."""
    return Q(sequence__gt=event.sequence) | Q(sequence=event.sequence, pk__gt=event.pk)


def _earlier_in_day(event: Event) -> Q:
    """Steps before `event` among those that share its date_key."""
    return Q(sequence__lt=event.sequence) | Q(sequence=event.sequence, pk__lt=event.pk)


class Event(PermalinkMixin, CitedRecord):
    """A step of a dispute: the unit of the timeline and of permalinks."""

    class Kind(models.TextChoices):
        ARREST = "arrest", "arrest"
        DETENTION = "detention", "detention"
        CONVICTION = "conviction", "conviction"
        SENTENCE = "sentence", "sentence"
        ACQUITTAL = "acquittal", "acquittal"
        RELEASE = "release", "release"
        ROUNDUP = "roundup", "roundup"
        STATEMENT = "statement", "statement"
        OTHER = "other", "other"

    dispute = models.ForeignKey(Dispute, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True)
    actor = models.ForeignKey(
        Country,
        on_delete=models.PROTECT,
        related_name="events",
        help_text="The state that acted: the event stands in this state's lane.",
    )
    people = models.ManyToManyField(Person, related_name="events", blank=True)
    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, null=True, blank=True, related_name="events"
    )
    detention = models.ForeignKey(
        "Detention", on_delete=models.PROTECT, null=True, blank=True, related_name="events"
    )
    locals().update(fuzzy_date_fields("date", "date"))
    locals().update(
        fuzzy_date_fields(
            "not_before",
            "not before",
            year_help=(
                "The earliest the event can be, when the source places it after a known step "
                "but dates it less precisely (a sentence told after a detention in March 2011: "
                "2011, month 3). Used for ordering and display; it must lie within the event's "
                "own date. Empty when the source gives no such step."
            ),
            inferred_label="not before: why",
            inferred_help=(
                "Required with a not-before date: the step of the source the event follows, "
                'e.g. "after the pilots\' detention in March 2011 (line 4)".'
            ),
        )
    )
    # The earliest the event can be: its not-before date when it has one, else its date.
    date_key = models.GeneratedField(
        expression=Coalesce(
            dates.low_key_expression("not_before"), dates.low_key_expression("date")
        ),
        output_field=models.IntegerField(),
        db_persist=True,
    )
    sequence = models.PositiveSmallIntegerField(
        default=0, help_text="Orders events that share a date; lower comes first."
    )
    cameo_code = models.CharField(
        "CAMEO code",
        max_length=4,
        blank=True,
        validators=[CAMEO_CODE],
        help_text='The CAMEO event code (2 to 4 digits), e.g. "173" for an arrest; empty when '
        "none fits.",
    )
    plover_code = models.CharField(
        "PLOVER event type",
        max_length=20,
        blank=True,
        choices=PLOVER_TYPES,
        help_text="The PLOVER event type; empty when none fits.",
    )
    citations = GenericRelation("Citation")
    history = HistoricalRecords(m2m_fields=[people])

    objects = EventQuerySet.as_manager()
    url_name = "disputes:event"

    class Meta:
        ordering = [F("date_key").asc(nulls_last=True), "sequence", "pk"]
        indexes = [
            models.Index(fields=["dispute", "date_key", "sequence", "id"]),
            # the latest change to a dispute's steps (DisputeQuerySet.with_chain_changes)
            models.Index(fields=["dispute", "last_changed"]),
        ]
        constraints = [
            *dates.shape_constraints("date", "event", "date"),
            *dates.shape_constraints("not_before", "event", "not-before date"),
            models.CheckConstraint(
                condition=Q(not_before_year__isnull=True) | Q(date_year__isnull=False),
                name="event_not_before_needs_date",
                violation_error_message=NOT_BEFORE_NEEDS_DATE,
            ),
            models.CheckConstraint(
                condition=Q(not_before_year__isnull=True)
                | Q(date_year__isnull=True)
                | (
                    Q(
                        GreaterThanOrEqual(
                            dates.low_key_expression("not_before"),
                            dates.low_key_expression("date"),
                        )
                    )
                    & Q(
                        LessThanOrEqual(
                            dates.low_key_expression("not_before"),
                            dates.high_key_expression("date"),
                        )
                    )
                ),
                name="event_not_before_within_date",
                violation_error_message=(
                    "The not-before date must lie within the event's date: "
                    "correct it or the date, or clear it."
                ),
            ),
            models.CheckConstraint(
                condition=Q(not_before_year__isnull=True) | ~Q(not_before_inferred=""),
                name="event_not_before_has_reason",
                violation_error_message=NOT_BEFORE_NEEDS_REASON,
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def date(self) -> FuzzyDate:
        return FuzzyDate.of(self, "date")

    @property
    def not_before(self) -> FuzzyDate:
        """The earliest the event can be, when the source places it after a known step;
        its `inferred` is the editor's reason (which step, where the source says so)."""
        return FuzzyDate.of(self, "not_before")

    @property
    def when(self) -> str:
        """The date as a reader should see it: "2011, not before March 2011 (year inferred)"."""
        return self.date.with_bound(self.not_before)

    def clean(self) -> None:
        errors = {}
        for prefix in ("date", "not_before"):
            problem = FuzzyDate.of(self, prefix).validate()
            if problem:
                errors[f"{prefix}_day"] = problem
        errors.update(self._not_before_problems())
        if errors:
            raise ValidationError(errors)
        if (
            self.dispute_id
            and self.actor_id
            and Dispute.objects.filter(pk=self.dispute_id).exists()
            and not Dispute.countries.through.objects.filter(
                dispute_id=self.dispute_id, country_id=self.actor_id
            ).exists()
        ):
            raise ValidationError(
                {
                    "actor": "The acting state must be one of the dispute's countries: add it there first."
                }
            )
        if self.pk is not None:
            self._check_links()

    def _not_before_problems(self) -> dict[str, str]:
        """The not-before rules of the check constraints, in words that say what to fix."""
        date, bound = self.date, self.not_before
        if not bound.known:
            return {}
        problems = {}
        if not self.not_before_inferred.strip():
            problems["not_before_inferred"] = NOT_BEFORE_NEEDS_REASON
        if not date.known:
            problems["not_before_year"] = NOT_BEFORE_NEEDS_DATE
        elif bound.low_key < date.low_key:
            problems["not_before_year"] = (
                f"The not-before date ({bound.display()}) is earlier than the event's date "
                f"({date.display()}) can be: it must lie within that date. Correct it, or clear "
                "it if the date already says as much."
            )
        elif bound.low_key > date.high_key:
            problems["not_before_year"] = (
                f"The not-before date ({bound.display()}) is later than the event's date "
                f"({date.display()}) allows: it must lie within that date. Correct it, or "
                "widen the date."
            )
        return problems

    def _check_links(self) -> None:
        """The rules of the link triggers, seen from an event whose date or dispute changes."""
        date = self.date
        for link in RetaliationLink.objects.filter(
            Q(cause=self.pk) | Q(response=self.pk)
        ).select_related("cause", "response"):
            other = link.response if link.cause_id == self.pk else link.cause
            if other.pk == self.pk:
                continue
            if link.dispute_id != self.dispute_id:
                raise ValidationError(
                    {
                        "dispute": f"This event is linked to “{other}” in its dispute: "
                        "remove that link first, or keep the dispute."
                    }
                )
            cause, response = (date, other.date) if link.cause_id == self.pk else (other.date, date)
            if response.certainly_before(cause):
                if link.cause_id == self.pk:
                    problem = (
                        f"With this date the event would come after “{other}” ({other.date}), "
                        "which is recorded as its response"
                    )
                else:
                    problem = (
                        f"With this date the event would come before “{other}” ({other.date}), "
                        "which is recorded as its cause"
                    )
                raise ValidationError({"date_year": f"{problem}: correct the date or the link."})

    @classmethod
    def public_condition(cls) -> Q:
        return Q(cited=True) & public_at(Dispute, "dispute")


class Detention(PermalinkMixin, CitedRecord):
    class Ending(models.TextChoices):
        ONGOING = "ongoing", "still held"
        RELEASED = "released", "released"
        CLEARED = "cleared", "cleared by a court"
        DEPORTED = "deported", "deported"
        UNKNOWN = "unknown", "not stated in the source"

    dispute = models.ForeignKey(Dispute, on_delete=models.PROTECT, related_name="detentions")
    person = models.ForeignKey(
        Person,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="detentions",
        help_text="The person held; leave empty for a group.",
    )
    group_description = models.CharField(
        max_length=300, blank=True, help_text='For a group: e.g. "Tajik migrants".'
    )
    group_size = models.CharField(
        max_length=100, blank=True, help_text='The size as the source gives it, e.g. "hundreds".'
    )
    group_size_min = models.PositiveIntegerField(
        null=True, blank=True, help_text="The smallest number the source's wording allows."
    )
    group_size_max = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text='The largest number the source\'s wording allows ("hundreds": 999); empty '
        "when it sets no upper bound.",
    )
    holding_country = models.ForeignKey(
        Country,
        on_delete=models.PROTECT,
        related_name="detentions",
        help_text="The state holding them.",
    )
    place = models.CharField(max_length=200, blank=True)
    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, null=True, blank=True, related_name="detentions"
    )
    locals().update(fuzzy_date_fields("start", "start"))
    locals().update(fuzzy_date_fields("end", "end"))
    ending = models.CharField(max_length=20, choices=Ending.choices, default=Ending.UNKNOWN)
    note = models.TextField(
        blank=True, help_text="What the source leaves open, and the judgement made about it."
    )
    citations = GenericRelation("Citation")
    history = HistoricalRecords()

    url_name = "disputes:detention"

    objects = PublicQuerySet.as_manager()

    class Meta:
        ordering = ["dispute", "start_year", "start_month", "start_day", "pk"]
        constraints = [
            *dates.shape_constraints("start", "detention", "start date"),
            *dates.shape_constraints("end", "detention", "end date"),
            models.CheckConstraint(
                condition=(Q(person__isnull=False) & Q(group_description=""))
                | (Q(person__isnull=True) & ~Q(group_description="")),
                name="detention_person_xor_group",
                violation_error_message=(
                    "A detention holds either one person or a described group: "
                    "choose a person or fill in the group description, not both."
                ),
            ),
            models.CheckConstraint(
                condition=Q(start_year__isnull=True)
                | Q(end_year__isnull=True)
                | GreaterThanOrEqual(
                    dates.high_key_expression("end"), dates.low_key_expression("start")
                ),
                name="detention_ends_after_start",
                violation_error_message=(
                    "The detention ends before it starts: correct the start or the end date."
                ),
            ),
            models.CheckConstraint(
                condition=Q(group_size_min__isnull=True)
                | Q(group_size_max__isnull=True)
                | Q(group_size_max__gte=F("group_size_min")),
                name="detention_group_size_bounds_ordered",
                violation_error_message=(
                    "The group's largest size is below its smallest: correct one of them."
                ),
            ),
        ]

    def __str__(self) -> str:
        who = str(self.person) if self.person_id else self.group_description
        return f"{who}, held by {self.holding_country}"

    @property
    def start(self) -> FuzzyDate:
        return FuzzyDate.of(self, "start")

    @property
    def end(self) -> FuzzyDate:
        return FuzzyDate.of(self, "end")

    @property
    def is_group(self) -> bool:
        return not self.person_id

    def clean(self) -> None:
        errors = {}
        for prefix in ("start", "end"):
            problem = FuzzyDate.of(self, prefix).validate()
            if problem:
                errors[f"{prefix}_day"] = problem
        if errors:
            raise ValidationError(errors)
        if (self.group_size_min is not None or self.group_size_max is not None) and self.person_id:
            raise ValidationError(
                {"group_size_min": "A size belongs to a group: clear it, or clear the person."}
            )

    @classmethod
    def public_condition(cls) -> Q:
        return Q(cited=True) & public_at(Dispute, "dispute")


class RetaliationLinkQuerySet(PublicQuerySet):
    def walkable(self):
        """The links a chain is walked along, further than one step: all but those only
        denied (the ladder's hollow mark: ladder.mark_of). A link that the source or a
        claimant denies and nobody asserts is shown where it stands, with its state; a chain
        that runs on through it would be a chain nobody claims."""
        claims = Claim.objects.filter(link=OuterRef("pk"), cited=True)
        denied = Q(evidence=RetaliationLink.Evidence.DENIED) | Exists(
            claims.filter(stance=Claim.Stance.DENIES)
        )
        asserted = Q(evidence__in=ASSERTED_EVIDENCE) | Exists(claims.filter(stance__in=ASSERTING))
        return self.exclude(denied & ~asserted)

    def touching(self, events):
        """Links into or out of any of `events` (instances or pks)."""
        return self.filter(Q(cause__in=events) | Q(response__in=events))


class RetaliationLink(PermalinkMixin, CitedRecord):
    """ "Event A provoked event B", with the state of the evidence and who claims what."""

    class Evidence(models.TextChoices):
        STATED = "stated", "stated by the source"
        CONFIRMED = "confirmed", "confirmed by insiders"
        IMPLIED = "implied", "implied by the source"
        SPECULATED = "speculated", "speculated"
        DENIED = "denied", "denied"

    cause = models.ForeignKey(Event, on_delete=models.PROTECT, related_name="provoked_links")
    response = models.ForeignKey(Event, on_delete=models.PROTECT, related_name="provoked_by_links")
    # The dispute of both its events (the database refuses any other), kept on the link so
    # that reading a dispute's links, or whether one is public, needs no join to its events.
    dispute = models.ForeignKey(
        Dispute, on_delete=models.PROTECT, related_name="links", editable=False
    )
    evidence = models.CharField("state of the evidence", max_length=20, choices=Evidence.choices)
    summary = models.TextField(blank=True)
    citations = GenericRelation("Citation")
    history = HistoricalRecords()

    objects = RetaliationLinkQuerySet.as_manager()
    url_name = "disputes:link"

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(cause=F("response")),
                name="link_not_to_itself",
                violation_error_message="An event cannot provoke itself: pick a different response.",
            ),
            models.UniqueConstraint(
                fields=["cause", "response"],
                name="link_unique",
                violation_error_message="These two events are already linked.",
            ),
        ]
        indexes = [
            models.Index(fields=["response", "cause"]),
            # the latest change to a dispute's links (DisputeQuerySet.with_chain_changes)
            models.Index(fields=["dispute", "last_changed"]),
        ]

    def __str__(self) -> str:
        return f"{self.cause} → {self.response}"

    def save(self, *args, **kwargs):
        self._take_the_dispute_of_its_cause()
        super().save(*args, **kwargs)

    def clean_fields(self, exclude=None):
        self._take_the_dispute_of_its_cause()
        super().clean_fields(exclude)

    def _take_the_dispute_of_its_cause(self) -> None:
        # A missing event is clean_fields' to report.
        if self.cause_id:
            with suppress(Event.DoesNotExist):
                self.dispute_id = self.cause.dispute_id

    def clean(self) -> None:
        if not (self.cause_id and self.response_id):
            return
        try:
            self.cause, self.response  # noqa: B018 - a missing event is clean_fields' to report
        except Event.DoesNotExist:
            return
        if self.cause.dispute_id != self.response.dispute_id:
            raise ValidationError("Both events must belong to the same dispute.")
        if self.response.date.certainly_before(self.cause.date):
            raise ValidationError(
                {
                    "response": (
                        f"The response ({self.response.date}) is dated before its cause "
                        f"({self.cause.date}): swap them or correct a date."
                    )
                }
            )

    @classmethod
    def public_condition(cls) -> Q:
        """Cited, and both its events public: a link never leads to a draft."""
        return (
            Q(cited=True)
            & Q(cause__cited=True)
            & Q(response__cited=True)
            & public_at(Dispute, "dispute")
        )


class ClaimQuerySet(PublicQuerySet):
    def public_of(self, links):
        """The public claims of `links`, which were read through
        RetaliationLink.objects.public(): for those, Claim.public_condition reduces to "cited"
        (the link's own conditions hold), and checking them again would join each claim to
        the link and its events once more. In no order: callers put a handful of claims in
        order themselves (an ORDER BY costs Django more to compile than the read)."""
        return self.filter(cited=True, link__in=links).order_by()


class Claim(CitedRecord):
    """Who says a link holds, or denies it: each claim keeps its owner and its quote."""

    class Stance(models.TextChoices):
        # Labels in the past tense, as a claim is reported ("observers speculated", "the
        # Kremlin denied"): it reads right after any claimant, one person or many.
        ASSERTS = "asserts", "asserted"
        CONFIRMS = "confirms", "confirmed"
        SPECULATES = "speculates", "speculated"
        IMPLIES = "implies", "implied"
        DENIES = "denies", "denied"

    link = models.ForeignKey(RetaliationLink, on_delete=models.CASCADE, related_name="claims")
    stance = models.CharField(max_length=20, choices=Stance.choices)
    claimant = models.CharField(
        max_length=200, help_text='Who makes the claim, as the source names them: "the Kremlin".'
    )
    claimant_person = models.ForeignKey(
        Person, on_delete=models.PROTECT, null=True, blank=True, related_name="claims"
    )
    claimant_country = models.ForeignKey(
        Country, on_delete=models.PROTECT, null=True, blank=True, related_name="claims"
    )
    detail = models.CharField(max_length=500, blank=True)
    citations = GenericRelation("Citation")
    history = HistoricalRecords()

    objects = ClaimQuerySet.as_manager()

    class Meta:
        ordering = ["link", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(claimant=""),
                name="claim_has_claimant",
                violation_error_message='Say who makes the claim, as the source names them (e.g. "the Kremlin").',
            )
        ]

    def __str__(self) -> str:
        return f"{self.claimant} {self.get_stance_display()}"

    @classmethod
    def public_condition(cls) -> Q:
        return Q(cited=True) & public_at(RetaliationLink, "link")


class CitationQuerySet(models.QuerySet):
    def with_sentence(self):
        """Each citation with its source's title (all a quote shows of it: not its text,
        which can be long) and `sentence_number`: the last sentence of the source starting
        at or before the quote, one probe of the index on Sentence (source, start)."""
        number = (
            Sentence.objects.filter(source_id=OuterRef("source_id"), start__lte=OuterRef("start"))
            .order_by("-start")
            .values("number")[:1]
        )
        return (
            self.select_related("source")
            .only("quote", "start", "content_type", "object_id", "source__title")
            .annotate(sentence_number=Subquery(number))
        )


class Citation(models.Model):
    """A verbatim quote from a source, attached to the record it supports."""

    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="citations")
    quote = models.TextField(help_text="Copied exactly from the source's text.")
    start = models.PositiveIntegerField(
        editable=False, help_text="Where the quote begins in the source's text."
    )
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.PositiveBigIntegerField()
    record = GenericForeignKey("content_type", "object_id")
    history = HistoricalRecords()

    objects = CitationQuerySet.as_manager()

    class Meta:
        ordering = ["source", "start"]
        indexes = [
            models.Index(fields=["content_type", "object_id"]),
            models.Index(fields=["source", "start"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(quote=""),
                name="citation_quote_not_empty",
                violation_error_message="A citation needs a quote.",
            ),
            models.UniqueConstraint(
                fields=["content_type", "object_id", "source", "start"],
                name="citation_unique_per_record",
                violation_error_message="This record already cites that passage.",
            ),
        ]

    def __str__(self) -> str:
        return f"“{self.quote[:60]}”"

    def save(self, *args, **kwargs):
        if self.start is None and self.source_id and self.quote:
            position = self.source.text.find(self.quote)
            if position >= 0:
                self.start = position
        super().save(*args, **kwargs)
        self._record_changed()

    def delete(self, *args, **kwargs):
        result = super().delete(*args, **kwargs)
        self._record_changed()
        return result

    def _record_changed(self) -> None:
        """A record's quotes are part of it: it has changed when they do."""
        model = ContentType.objects.get_for_id(self.content_type_id).model_class()
        if model is not None and issubclass(model, Recorded):
            model._default_manager.filter(pk=self.object_id).update(
                last_changed=timezone.now(), revision=F("revision") + 1
            )

    @property
    def end(self) -> int:
        return self.start + len(self.quote)

    def clean(self) -> None:
        if not self.source_id or not self.quote:
            return
        try:
            position = self.source.text.find(self.quote)
        except Source.DoesNotExist:
            return
        if position < 0:
            from .quotes import closest_passage

            closest = closest_passage(self.source.text, self.quote)
            raise ValidationError(
                {
                    "quote": closest.message()
                    if closest
                    else "The quote is not in the source's text word for word, nor anything like it: "
                    "copy it exactly from the source, including punctuation."
                }
            )
        if (
            self.start is None
            or self.source.text[self.start : self.start + len(self.quote)] != self.quote
        ):
            self.start = position


class RecordVersion(models.Model):
    """One row whose number rises with every change to the record, in the same transaction.

    Public pages are cached under this number (disputes/caching.py), so an edit is visible
    on the very next request to every page, on every worker, with no invalidation list.
    """

    version = models.PositiveBigIntegerField(default=1)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="record_version_single_row"),
        ]

    def __str__(self) -> str:
        return f"record version {self.version}"


class SearchIndexFormat(models.Model):
    """Which format of search_index wrote the search entries (search_index.FORMAT): `migrate`
    writes them again when the code's is another (apps.fill_search_index), so that an upgrade
    that changes what an entry holds needs no step of its own."""

    number = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="search_index_format_single_row"),
        ]

    def __str__(self) -> str:
        return f"search index format {self.number}"


class OnPostgreSQL(Func):
    """Its expression on PostgreSQL; NULL on SQLite, which has no such functions (search
    reads its FTS5 table there)."""

    arity = 1
    template = "%(expressions)s"

    def as_sqlite(self, compiler, connection, **extra_context):
        return "NULL", []


def search_document():
    """An entry's weighted words for PostgreSQL's full-text search: title A, names B, quotes
    C, body D, in the 'simple' configuration (the words are folded already)."""
    parts = [
        SearchVector(name, weight=weight, config="simple")
        for name, weight in (("title", "A"), ("names", "B"), ("quotes", "C"), ("body", "D"))
    ]
    return OnPostgreSQL(parts[0] + parts[1] + parts[2] + parts[3], output_field=SearchVectorField())


class SearchEntry(models.Model):
    """One public thing a reader can find: a record, or one sentence of a source.

    Written only by disputes/search_index.py, from its one definition of what each kind of
    record shows to search (title, names, quotes, body: folded to lowercase Latin words, so
    that Cyrillic and Latin spellings, accents and case meet), and read by search.py. Both
    databases index these same four columns: PostgreSQL a weighted tsvector (`document`),
    SQLite an FTS5 table kept by triggers (triggers.py). Only public records have
    entries, so nothing search returns or counts can be a draft.
    """

    class Kind(models.TextChoices):
        DISPUTE = "dispute", "Disputes"
        EVENT = "event", "Events"
        PERSON = "person", "People"
        CASE = "case", "Cases"
        DETENTION = "detention", "Detentions"
        LINK = "link", "Links"
        COUNTRY = "country", "Countries"
        SOURCE = "source", "Sources"
        SENTENCE = "sentence", "Source sentences"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    object_id = models.PositiveBigIntegerField()
    # A sentence's number within its source (object_id is the source's); 0 for a record.
    number = models.PositiveIntegerField(default=0)
    # What a result shows: its name, address, one line about it and the text excerpted.
    label = models.CharField(max_length=500)
    url = models.CharField(max_length=500)
    line = models.CharField(max_length=500, blank=True)
    text = models.TextField(blank=True)
    # What a search matches: folded words, weighted title > names > quotes > body.
    title = models.TextField(blank=True)
    names = models.TextField(blank=True)
    quotes = models.TextField(blank=True)
    body = models.TextField(blank=True)
    # Facets.
    # No database constraint: the entries are derived data, written after the record in the
    # same transaction, and a deferred constraint check would keep the table from being
    # emptied (flush, TRUNCATE) in it.
    dispute = models.ForeignKey(
        Dispute,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
    )
    countries = models.CharField(max_length=200, blank=True, help_text="ISO codes, spaced.")
    year = models.PositiveSmallIntegerField(null=True, blank=True)
    # The words above as PostgreSQL's tsvector, which the database computes as it stores the
    # row: search matches it (GIN-indexed, migration 0008) and ranks it without computing it
    # again for each match. NULL on SQLite.
    document = models.GeneratedField(
        expression=search_document(), output_field=SearchVectorField(), db_persist=True
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "object_id", "number"], name="search_entry_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind}: {self.label}"


class SearchWord(models.Model):
    """The names vocabulary: every word of an entry's title and names, for "did you mean"
    (pg_trgm on PostgreSQL, rapidfuzz on SQLite). Words are added as entries are written and
    kept until the index is rebuilt; a suggestion is only offered when it finds something."""

    word = models.CharField(max_length=100, unique=True)

    def __str__(self) -> str:
        return self.word


# Bookkeeping, not the record: written from it (the page cache's version, search's index and
# the format it was written in). Exports, imports and the admin leave these out.
BOOKKEEPING = (RecordVersion, SearchEntry, SearchWord, SearchIndexFormat)


# What each model's __str__ reads from other tables, so that lists fetch it in one go.
STR_RELATED = {
    "role": ["person"],
    "personrelation": ["person", "other"],
    "detention": ["person", "holding_country"],
    "retaliationlink": ["cause", "response"],
    "sentence": ["source"],
}
