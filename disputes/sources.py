"""A source's text as sentences: where each begins and ends, so readers can be pointed at
one and so that no sentence of an article is silently left out of the record.

Each line of a captured text is a paragraph; a sentence ends at the end of a line or at
".", "!" or "?" (with any closing quote) followed by a space and a capital or an opening
quote, unless the full stop ends an abbreviation such as "Dec." or an initial.
"""

from __future__ import annotations

import re
from bisect import bisect_right

from django.db import transaction

from . import dates

ABBREVIATIONS = {
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
    "mr", "mrs", "ms", "dr", "st", "gen", "col", "lt", "sgt", "gov", "sen", "rep", "prof",
    "vs", "v", "inc", "co", "corp", "jr", "sr", "u.s", "u.k", "e.g", "i.e",
}  # fmt: skip
_BOUNDARY = re.compile(r"""[.!?]["'”’)]*(?=\s+["'“‘(]?[A-Z0-9])""")
_WORD_BEFORE = re.compile(r"([\w.]+)$")


def split_sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of each sentence of text, in order, without surrounding spaces."""
    spans: list[tuple[int, int]] = []
    line_start = 0
    for line in text.split("\n"):
        cursor = 0
        for match in _BOUNDARY.finditer(line):
            word = _WORD_BEFORE.search(line, 0, match.start())
            if match.group()[0] == "." and word and _is_abbreviation(word.group(1)):
                continue
            spans.append(_trimmed(line, cursor, match.end(), line_start))
            cursor = match.end()
        if line[cursor:].strip():
            spans.append(_trimmed(line, cursor, len(line), line_start))
        line_start += len(line) + 1
    return [span for span in spans if span[1] > span[0]]


def _is_abbreviation(word: str) -> bool:
    word = word.lower()
    return word in ABBREVIATIONS or (len(word) == 1 and word.isalpha())


def _trimmed(line: str, start: int, end: int, offset: int) -> tuple[int, int]:
    piece = line[start:end]
    start += len(piece) - len(piece.lstrip())
    end -= len(piece) - len(piece.rstrip())
    return offset + start, offset + end


@transaction.atomic
def sync_sentences(source, previous_text: str | None = None) -> None:
    """Rebuild the source's Sentence rows from its text, keeping each context note with
    the sentence whose words it was written for (matched by text, not by position)."""
    old_text = source.text if previous_text is None else previous_text
    notes: dict[str, str] = {}
    for sentence in source.sentences.exclude(context_note=""):
        notes.setdefault(old_text[sentence.start : sentence.end], sentence.context_note)
    source.sentences.all().delete()
    model = source.sentences.model
    source.sentences.bulk_create(  # on the source's database, as its related managers are
        model(
            source=source,
            number=number,
            start=start,
            end=end,
            context_note=notes.get(source.text[start:end], ""),
        )
        for number, (start, end) in enumerate(split_sentences(source.text), start=1)
    )


def relocate_citations(source) -> int:
    """After a text edit, point each citation at its quote again: the occurrence nearest to
    where it was. A quote the text no longer holds is left alone for Source.clean to report.
    Returns how many citations moved."""
    moved = []
    for citation in source.citations.only("quote", "start"):
        text, quote = source.text, citation.quote
        if text[citation.start : citation.start + len(quote)] == quote:
            continue
        found = list(_occurrences(text, quote))
        if found:
            citation.start = min(found, key=lambda i: abs(i - citation.start))
            moved.append(citation)
    source.citations.bulk_update(moved, ["start"])
    return len(moved)


def _occurrences(text: str, quote: str):
    position = text.find(quote)
    while position >= 0:
        yield position
        position = text.find(quote, position + 1)


LINE_REFERENCE = re.compile(r"\blines? (\d+)\b")


def line_references(note: str) -> list[int]:
    """The line numbers an editor's note points to ("after the March 2011 detention (line 4)"),
    in the order it names them, each once."""
    seen: list[int] = []
    for match in LINE_REFERENCE.finditer(note):
        number = int(match.group(1))
        if number not in seen:
            seen.append(number)
    return seen


def sentences_on_lines(text: str, sentences, lines) -> dict[int, list[int]]:
    """{line number: the numbers of the sentences that start on it}, for `sentences` given
    as (number, start) pairs of the source whose text this is."""
    starts, offset = [], 0
    for line in text.split("\n"):
        starts.append(offset)
        offset += len(line) + 1
    found: dict[int, list[int]] = {line: [] for line in lines}
    for number, start in sentences:
        line = bisect_right(starts, start)
        if line in found:
            found[line].append(number)
    return found


def date_notes(event, quotes) -> list[dict]:
    """Why an inferred part of the event's date is what it is, for the reader: each note with
    what it explains ("year inferred", "not before March 2011"), the editor's reason, and the
    sentences of the event's source on the lines the reason points to ({line: [(number,
    address)]}). Two small reads, only when a reason names a line and the event is quoted."""
    notes = [{"label": label, "reason": reason} for label, reason in dates.date_reasons(event)]
    lines = sorted({n for note in notes for n in line_references(note["reason"])})
    found = {}
    if lines and quotes:
        source = quotes[0].source
        text = source.text or ""  # read with the quotes, the text is deferred: one query
        sentences = source.sentences.values_list("number", "start")
        url = source.get_absolute_url()
        found = {
            line: [(n, f"{url}#s{n}") for n in numbers]
            for line, numbers in sentences_on_lines(text, sentences, lines).items()
        }
    for note in notes:
        note["lines"] = {n: found[n] for n in line_references(note["reason"]) if found.get(n)}
        note["sentences"] = [s for line in note["lines"].values() for s in line]
    return notes
