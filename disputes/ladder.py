"""The dispute's ladder as a picture: where each step and each link is drawn, in Python.

Time runs down the page. Each state has a lane; each step is drawn twice: as a bar on its
lane's rail covering every day its date can mean (a year is a tall bar, a day a short one),
and as a card with its title beside the bar. Within a segment one day is the same number of
pixels everywhere, so a two-year lag looks twenty times as long as a month's. A gap with
nothing recorded that would take more than GAP_MAX_PX is cut out and drawn as a break of
BREAK_PX, labelled with how long it is. Cards are placed at the top of their bar, pushed
down only as far as the card above them in the same lane needs.

Each link is its own route through the gutter between the lanes: out of its cause's bar,
along a track of its own, into its response's bar. How it is drawn says the state of its
evidence without colour (`mark_of`). Nothing here reads the database or knows HTML: the
view builds Steps and Links, the template draws the Layout.
"""

from __future__ import annotations

import datetime
import textwrap
from dataclasses import dataclass, field

# The canvas, in the SVG's own units (it scales to the width of its column).
WIDTH = 700
AXIS_X = 44  # year labels left of this
RAIL_A = 300  # lane a's bars hang left of this line
RAIL_B = 410  # lane b's bars hang right of this line
CARD_MARGIN = 8
TOP = 24
BOTTOM = 24
BAR_WIDTH = 6
BAR_STEP = 9  # bars that overlap in time sit side by side
MIN_BAR = 4  # a single day is still visible
GAP_MAX_PX = 160  # a gap longer than this at scale is cut out...
BREAK_PX = 56  # ...and drawn as a break this tall
TARGET_PX_PER_STEP = 110
MIN_HEIGHT = 420
MAX_PX_PER_DAY = 24.0
MIN_PX_PER_DAY = 0.02
TITLE_PX = 16  # a line of a card's title
CARD_PAD = 7
DATE_PX = 15
TRACK_GAP = 14
LINK_END_GAP = 7  # links sharing an end leave it this far apart

# How a link is drawn, from the state of its evidence and who claims what.
SOLID, DASHED, HOLLOW, CONTESTED = "solid", "dashed", "hollow", "contested"
ASSERTING = {"asserts", "confirms"}  # claims' stances that assert a link
ASSERTED_EVIDENCE = ("stated", "confirmed")  # states of the evidence that assert it
MARK_LABELS = {
    SOLID: "stated or confirmed",
    DASHED: "implied or speculated",
    HOLLOW: "denied, asserted by no one",
    CONTESTED: "contested: asserted by one side, denied by the other",
}


def mark_of(evidence: str, stances=()) -> str:
    """The mark of a link: contested when someone denies it and someone asserts or confirms
    it (or the source states it); hollow when it is denied and nobody asserts it; solid when
    stated or confirmed; dashed when only implied or speculated."""
    stances = set(stances)
    denied = evidence == "denied" or "denies" in stances
    asserted = evidence in ASSERTED_EVIDENCE or bool(stances & ASSERTING)
    if denied and asserted:
        return CONTESTED
    if denied:
        return HOLLOW
    if evidence in ASSERTED_EVIDENCE:
        return SOLID
    return DASHED


@dataclass
class Step:
    id: int
    lane: str  # "a" or "b"
    title: str
    date_label: str
    first_day: datetime.date | None = None  # None: the source gives no date
    last_day: datetime.date | None = None
    inferred: bool = False
    note: str = ""  # why a part of the date is inferred, for the bar's <title>
    url: str = ""
    current: bool = False
    # Filled in by layout():
    y0: float = 0.0  # the bar: every day the date can mean
    y1: float = 0.0
    bar_x: float = 0.0
    card_x: float = 0.0
    card_y: float = 0.0
    card_w: float = 0.0
    card_h: float = 0.0
    lines: list[str] = field(default_factory=list)
    date_lines: list[str] = field(default_factory=list)

    @property
    def dated(self) -> bool:
        return self.first_day is not None

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1 if self.dated else 0

    @property
    def anchor_y(self) -> float:
        return (self.y0 + self.y1) / 2

    @property
    def rail_x(self) -> float:
        return RAIL_A if self.lane == "a" else RAIL_B

    @property
    def bar_height(self) -> float:
        return self.y1 - self.y0

    @property
    def text_x(self) -> float:
        return self.card_x + CARD_PAD

    @property
    def title_y(self) -> float:
        return self.card_y + CARD_PAD + 12

    @property
    def date_y(self) -> float:
        return self.card_y + CARD_PAD + TITLE_PX * len(self.lines) + 12

    @property
    def leader(self) -> tuple[float, float, float, float]:
        """From the card's inner edge to the top of its bar."""
        x = self.card_x + self.card_w if self.lane == "a" else self.card_x
        return (x, self.card_y + 14, self.bar_x + BAR_WIDTH / 2, self.y0 + 2)


@dataclass
class Link:
    id: int
    cause_id: int
    response_id: int
    mark: str
    url: str = ""
    label: str = ""
    # Filled in by layout():
    path: str = ""
    track_x: float = 0.0
    start: tuple[float, float] = (0.0, 0.0)
    end: tuple[float, float] = (0.0, 0.0)
    middle: tuple[float, float] = (0.0, 0.0)

    @property
    def strike(self) -> str:
        """A cross over the middle of a denied link."""
        x, y = self.middle
        return f"M{x - 5:.1f} {y - 5:.1f}l10 10m0 -10l-10 10"

    @property
    def diamond(self) -> str:
        """A diamond on the middle of a contested link."""
        x, y = self.middle
        return f"M{x:.1f} {y - 7:.1f}l7 7-7 7-7-7z"


@dataclass
class Segment:
    """A stretch of time drawn at scale: days from `first` to `last` run from y0 to y1."""

    first: datetime.date
    last: datetime.date
    y0: float
    y1: float


@dataclass
class Break:
    y0: float
    y1: float
    label: str

    @property
    def path(self) -> str:
        """Two zigzags across the picture: time is cut out between them."""

        def zigzag(y: float) -> str:
            teeth = "".join(f"l6 {-4 if i % 2 == 0 else 4}" for i in range(WIDTH // 6))
            return f"M0 {y:.1f}{teeth}"

        return zigzag(self.y0 + 12) + zigzag(self.y1 - 8)

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    @property
    def label_y(self) -> float:
        return (self.y0 + self.y1) / 2 + 6


@dataclass
class Tick:
    y: float
    label: str
    major: bool


@dataclass
class Layout:
    steps: list[Step]
    links: list[Link]
    segments: list[Segment]
    breaks: list[Break]
    ticks: list[Tick]
    px_per_day: float
    width: int
    height: float
    undated_y: float | None = None

    def y_of(self, day: datetime.date) -> float:
        """Where a day starts, within the segment that holds it."""
        for segment in self.segments:
            if segment.first <= day <= segment.last:
                return segment.y0 + (day - segment.first).days * self.px_per_day
        raise ValueError(f"{day} is in no segment")


def gap_label(days: int) -> str:
    """How long a cut-out gap lasts, as a reader would say it."""
    months = round(days / 30.44)
    if months < 1:
        return f"{days} days with nothing recorded"
    if months < 12:
        return f"{months} month{'s' if months != 1 else ''} with nothing recorded"
    years, months = divmod(months, 12)
    text = f"{years} year{'s' if years != 1 else ''}"
    if months:
        text += f" {months} month{'s' if months != 1 else ''}"
    return f"{text} with nothing recorded"


def _covered(steps: list[Step]) -> list[tuple[datetime.date, datetime.date]]:
    """The days some step's date can mean, as disjoint intervals in time order."""
    intervals: list[list[datetime.date]] = []
    for step in sorted((s for s in steps if s.dated), key=lambda s: s.first_day):
        if intervals and step.first_day <= intervals[-1][1] + datetime.timedelta(days=1):
            intervals[-1][1] = max(intervals[-1][1], step.last_day)
        else:
            intervals.append([step.first_day, step.last_day])
    return [(a, b) for a, b in intervals]


def _scale(covered, n_steps: int) -> tuple[float, float]:
    """Pixels per day, and the shortest gap (in days) to cut out: the page's steps get about
    TARGET_PX_PER_STEP each over the time they span, and a gap that would take more than
    GAP_MAX_PX of that is cut out; the rest is then drawn at the scale that fills the
    height the cut gaps left."""
    if not covered:
        return MAX_PX_PER_DAY, 0
    target = max(MIN_HEIGHT, TARGET_PX_PER_STEP * n_steps)

    def clamp(scale: float) -> float:
        return min(MAX_PX_PER_DAY, max(MIN_PX_PER_DAY, scale))

    span = (covered[-1][1] - covered[0][0]).days + 1
    shortest_cut = GAP_MAX_PX / clamp(target / span)
    cut = sum(gap for gap in _gaps(covered) if gap > shortest_cut)
    return clamp(target / (span - cut)), shortest_cut


def _gaps(covered) -> list[int]:
    return [(b[0] - a[1]).days - 1 for a, b in zip(covered, covered[1:], strict=False)]


def _segments(covered, scale: float, shortest_cut: float) -> tuple[list[Segment], list[Break]]:
    """Segments drawn at scale, with gaps longer than GAP_MAX_PX cut out as breaks."""
    segments: list[Segment] = []
    breaks: list[Break] = []
    y = TOP
    for a, b in covered:
        if segments:
            gap = (a - segments[-1].last).days - 1
            if gap > shortest_cut:
                breaks.append(Break(y, y + BREAK_PX, gap_label(gap)))
                y += BREAK_PX
            else:
                # a short gap is drawn at scale: the segment goes on through it
                segment = segments[-1]
                segment.last = b
                segment.y1 = segment.y0 + ((b - segment.first).days + 1) * scale
                y = segment.y1
                continue
        span = ((b - a).days + 1) * scale
        segments.append(Segment(a, b, y, y + span))
        y += span
    return segments, breaks


def _ticks(segments: list[Segment], scale: float) -> list[Tick]:
    """A tick at each new year inside a segment (and at its start), months when there is room."""
    ticks = []
    for segment in segments:
        first = segment.first
        ticks.append(
            Tick(segment.y0, str(first.year) if first.month == 1 else first.strftime("%b %Y"), True)
        )
        month = datetime.date(first.year, first.month, 1)
        while True:
            month = datetime.date(month.year + month.month // 12, month.month % 12 + 1, 1)
            if month > segment.last:
                break
            y = segment.y0 + (month - segment.first).days * scale
            if month.month == 1:
                ticks.append(Tick(y, str(month.year), True))
            elif scale * 30 >= 28:
                ticks.append(Tick(y, month.strftime("%b"), False))
    return ticks


def _wrap(title: str, width_px: float, char_px: float = 8.0) -> list[str]:
    chars = max(12, int(width_px / char_px))
    lines = textwrap.wrap(title, chars) or [""]
    if len(lines) > 3:
        lines = lines[:3]
        lines[2] = lines[2][: chars - 1].rstrip() + "…"
    return lines


def _columns(steps: list[Step]) -> dict[int, int]:
    """Which column of its lane's rail each bar takes, so that bars overlapping in time
    stand side by side instead of on top of each other."""
    column = {}
    for lane in ("a", "b"):
        ends: list[float] = []
        for step in sorted((s for s in steps if s.lane == lane), key=lambda s: (s.y0, s.y1)):
            for i, end in enumerate(ends):
                if end <= step.y0:
                    ends[i] = step.y1
                    column[step.id] = i
                    break
            else:
                column[step.id] = len(ends)
                ends.append(step.y1)
    return column


def layout(steps: list[Step], links: list[Link]) -> Layout:
    """Place steps (in time order) and the links between them."""
    covered = _covered(steps)
    scale, shortest_cut = _scale(covered, len(steps))
    segments, breaks = _segments(covered, scale, shortest_cut)
    drawn = Layout(steps, [], segments, breaks, _ticks(segments, scale), scale, WIDTH, 0)

    bottom = segments[-1].y1 if segments else TOP
    for step in steps:
        if step.dated:
            step.y0 = drawn.y_of(step.first_day)
            step.y1 = max(step.y0 + step.days * scale, step.y0 + MIN_BAR)

    # Steps the source gives no date: after a break of their own, one after another.
    undated = [s for s in steps if not s.dated]
    if undated:
        drawn.undated_y = bottom + 16
        y = bottom + 16 + 30
        for step in undated:
            step.y0, step.y1 = y, y + MIN_BAR
            y += 50
        bottom = y

    columns = _columns(steps)
    n_columns = {
        lane: 1 + max([columns[s.id] for s in steps if s.lane == lane] or [0]) for lane in "ab"
    }
    next_free = {"a": 0.0, "b": 0.0}
    for step in steps:
        col = columns[step.id]
        if step.lane == "a":
            step.bar_x = RAIL_A - BAR_STEP * (col + 1)
            step.card_x = AXIS_X + 6
            step.card_w = RAIL_A - BAR_STEP * n_columns["a"] - CARD_MARGIN - step.card_x
        else:
            step.bar_x = RAIL_B + BAR_STEP * col + (BAR_STEP - BAR_WIDTH)
            step.card_x = RAIL_B + BAR_STEP * n_columns["b"] + CARD_MARGIN
            step.card_w = WIDTH - 6 - step.card_x
        step.lines = _wrap(step.title, step.card_w - 2 * CARD_PAD)
        step.date_lines = _wrap(step.date_label, step.card_w - 2 * CARD_PAD, 6.3)
        step.card_h = CARD_PAD * 2 + TITLE_PX * len(step.lines) + DATE_PX * len(step.date_lines)
        step.card_y = max(step.y0 - 4, next_free[step.lane])
        next_free[step.lane] = step.card_y + step.card_h + 6
        bottom = max(bottom, step.card_y + step.card_h)

    drawn.links = _route(steps, links)
    drawn.height = bottom + BOTTOM
    return drawn


def _route(steps: list[Step], links: list[Link]) -> list[Link]:
    """Each link drawn between two steps on the page gets a track of its own in the gutter;
    links sharing an end leave it a few pixels apart. Links to steps on other pages are
    left to the cards and the text."""
    where = {s.id: s for s in steps}
    links = [x for x in links if x.cause_id in where and x.response_id in where]
    ends: dict[int, list[Link]] = {}
    for link in links:
        ends.setdefault(link.cause_id, []).append(link)
        ends.setdefault(link.response_id, []).append(link)

    def end_y(step: Step, link: Link) -> float:
        sharing = ends[step.id]
        if len(sharing) == 1:
            return step.anchor_y
        offset = (sharing.index(link) - (len(sharing) - 1) / 2) * LINK_END_GAP
        return step.anchor_y + offset

    spans = []
    for link in links:
        y0, y1 = end_y(where[link.cause_id], link), end_y(where[link.response_id], link)
        spans.append((min(y0, y1), max(y0, y1), y0, y1, link))
    spans.sort(key=lambda s: (s[0], s[1], s[4].id))

    # A link across the gutter between steps at nearly the same height runs straight over it
    # and steps to its end's height beside the rail it reaches: given a track, its two
    # level parts ran within a few pixels of another link's, and took its clicks. Not when
    # another link reaches that end near the level line's height: the two would run as one.
    def runs_level(link: Link, y0: float, y1: float) -> bool:
        response = where[link.response_id]
        return (
            where[link.cause_id].rail_x != response.rail_x
            and abs(y1 - y0) < LINK_END_GAP
            and all(
                abs(end_y(response, other) - y0) >= LINK_END_GAP
                for other in ends[response.id]
                if other is not link
            )
        )

    track_end: list[float] = []
    tracks = []
    for low, high, y0, y1, link in spans:
        if runs_level(link, y0, y1):
            tracks.append(None)
            continue
        for i, end in enumerate(track_end):
            if end + 8 < low:
                track_end[i] = high
                tracks.append(i)
                break
        else:
            tracks.append(len(track_end))
            track_end.append(high)
    # The tracks, as many as needed, centred in the gutter.
    gutter = RAIL_B - RAIL_A
    spacing = min(TRACK_GAP, (gutter - 24) / max(len(track_end), 1))
    first = RAIL_A + (gutter - spacing * (len(track_end) - 1)) / 2
    for (_, _, y0, y1, link), track in zip(spans, tracks, strict=True):
        x0, x1 = where[link.cause_id].rail_x, where[link.response_id].rail_x
        if track is None:
            link.track_x = x1 - LINK_END_GAP if x1 > x0 else x1 + LINK_END_GAP
        else:
            link.track_x = first + spacing * track
        link.start, link.end = (x0, y0), (x1, y1)
        link.path = f"M{x0:.1f} {y0:.1f}H{link.track_x:.1f}V{y1:.1f}H{x1:.1f}"
        if track is None:
            link.middle = ((x0 + link.track_x) / 2, y0)
        elif abs(y1 - y0) >= 12:
            link.middle = (link.track_x, (y0 + y1) / 2)
        else:
            link.middle = ((link.track_x + x1) / 2, y1)
    return [s[4] for s in spans]
