"""When a quote is not word for word in its source: the closest passage, and where they differ.

An editor who types or pastes a quote with one comma wrong should not have to hunt for it.
difflib finds the sentence (or run of sentences) most like the quote, narrows it to the
passage the quote lines up with, and compares the two word by word. The differences are
written in brackets, `[source has | quote has]`, so they read without colour, in an error
message as in a screen reader, and on the page each is marked as well.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher

from django.utils.html import format_html
from django.utils.safestring import mark_safe

from .sources import split_sentences

# Words, single punctuation marks and runs of spaces: a comma or a quote mark is a
# difference of its own, and joining the tokens gives the text back exactly.
_TOKEN = re.compile(r"\w+|\s+|[^\w\s]")
# A run of identical text longer than this is shortened around the differences.
_CONTEXT = 40


@dataclass(frozen=True)
class Closest:
    """The passage of a source most like a quote that is not in it."""

    passage: str
    quote: str
    start: int
    sentence_number: int | None
    differences: str  # the passage with each difference marked [source | quote]
    similarity: float  # 0..1, difflib's ratio between passage and quote

    def message(self) -> str:
        """The editor's error, as HTML: each difference in a <mark> (its brackets kept, so
        the text reads the same without colour, and with its tags stripped)."""
        where = f"sentence {self.sentence_number}" if self.sentence_number else "the text"
        return format_html(
            '<span class="quote-hint">The quote is not in the source\'s text word for word. '
            "The closest passage is in {}: “{}”.</span> "
            '<span class="quote-hint">Where they differ, marked [source has | quote has]: '
            "“{}”.</span> "
            '<span class="quote-hint">Copy the passage exactly, or correct the quote.</span>',
            where,
            self.passage,
            marked_differences(self.passage, self.quote, html=True),
        )


def closest_passage(text: str, quote: str) -> Closest | None:
    """The passage of `text` most like `quote`, or None when nothing in it is alike."""
    quote = quote.strip()
    if not text or not quote:
        return None
    spans = split_sentences(text) or [(0, len(text))]
    # Windows of one, two and three sentences: a quote may run across a sentence's end.
    windows = [
        (spans[i][0], spans[min(i + size, len(spans)) - 1][1])
        for size in (1, 2, 3)
        for i in range(len(spans))
        if i + size <= len(spans) or size == 1
    ]
    best, best_score = None, 0.0
    for start, end in windows:
        matcher = SequenceMatcher(None, text[start:end], quote, autojunk=False)
        if matcher.real_quick_ratio() < best_score or matcher.quick_ratio() < best_score:
            continue
        # How much of the quote the window holds, slightly preferring a window of the
        # quote's own length, so that a short quote is not matched to a long paragraph.
        held = sum(block.size for block in matcher.get_matching_blocks()) / len(quote)
        score = held - abs((end - start) - len(quote)) / (10 * len(quote) + 1)
        if score > best_score:
            best, best_score = (start, end), score
    if best is None or best_score < 0.5:
        return None
    start, end = _narrowed(text, best[0], best[1], quote)
    passage = text[start:end]
    number = next((n for n, (s, e) in enumerate(spans, start=1) if s <= start < e), None)
    ratio = SequenceMatcher(None, passage, quote, autojunk=False).ratio()
    return Closest(passage, quote, start, number, marked_differences(passage, quote), ratio)


def _narrowed(text: str, start: int, end: int, quote: str) -> tuple[int, int]:
    """The part of text[start:end] that the quote lines up with, widened to whole words."""
    window = text[start:end]
    blocks = [
        b
        for b in SequenceMatcher(None, window, quote, autojunk=False).get_matching_blocks()
        if b.size >= 3
    ]
    if not blocks:
        return start, end
    first, last = blocks[0], blocks[-1]
    # Reach back (and on) as far as the quote has text before its first (after its last)
    # matching block, so a difference at either end is still inside the passage.
    low = max(0, first.a - first.b)
    high = min(len(window), last.a + last.size + (len(quote) - last.b - last.size))
    while low > 0 and window[low - 1].isalnum():
        low -= 1
    while high < len(window) and window[high].isalnum():
        high += 1
    return start + low, start + high


def marked_differences(passage: str, quote: str, html: bool = False) -> str:
    """The passage with each difference from the quote written as [source has | quote has]
    ("—" for nothing), long identical runs shortened to their ends; with `html`, escaped
    and each difference in a <mark>."""
    a, b = _TOKEN.findall(passage), _TOKEN.findall(quote)
    pieces = []
    for op, a1, a2, b1, b2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            pieces.append(("same", "".join(a[a1:a2])))
        else:
            pieces.append(("diff", f"[{_shown(''.join(a[a1:a2]))} | {_shown(''.join(b[b1:b2]))}]"))
    out = []
    for i, (kind, piece) in enumerate(pieces):
        if kind == "same" and len(piece) > 2 * _CONTEXT and len(pieces) > 1:
            head = piece[:_CONTEXT] if i > 0 else ""
            tail = piece[-_CONTEXT:] if i < len(pieces) - 1 else ""
            piece = f"{head}…{tail}"
        if html:
            mark = '<mark class="quote-diff">{}</mark>' if kind == "diff" else "{}"
            piece = format_html(mark, piece)
        out.append(piece)
    return mark_safe("".join(out)) if html else "".join(out)  # noqa: S308 (each piece escaped)


def _shown(text: str) -> str:
    if not text:
        return "—"
    return text.replace(" ", "␣") if not text.strip() else text
