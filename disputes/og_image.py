"""The dispute's ladder as a PNG for link previews (Open Graph, Twitter): the same layout the
page draws (disputes/ladder.py), painted with Pillow at 1200 x 630.

Cards are drawn as boxes without their titles (too small to read at this size); the
picture says what a preview can: two lanes, time to scale with its cuts, the spans of the
dates, and every link with its mark. The view that serves it is a public page, so the page
cache keeps it under the record's version like any other page.
"""

from __future__ import annotations

import io
import math

from PIL import Image, ImageDraw, ImageFont

from . import ladder

WIDTH, HEIGHT = 1200, 630
HEADER = 96
MARGIN = 24
INK = (27, 31, 36)
MUTED = (74, 85, 97)
RULE = (185, 194, 203)
LINE = (57, 67, 78)
DENIED = (163, 32, 28)
CONTESTED = (91, 42, 134)
PAPER = (255, 255, 255)
LANE = {"a": (138, 31, 31), "b": (31, 90, 58)}
LANE_WASH = {"a": (251, 241, 241), "b": (239, 247, 242)}
MARK_COLOUR = {
    ladder.SOLID: LINE,
    ladder.DASHED: LINE,
    ladder.HOLLOW: DENIED,
    ladder.CONTESTED: CONTESTED,
}


def _font(size: int):
    return ImageFont.load_default(size=size)


def _fit(draw, text: str, font, width: float) -> str:
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text.rstrip() + "…"


def _dashed(draw, points, fill, width, dash=9, gap=6):
    for (x0, y0), (x1, y1) in zip(points, points[1:], strict=False):
        length = math.hypot(x1 - x0, y1 - y0)
        if not length:
            continue
        dx, dy = (x1 - x0) / length, (y1 - y0) / length
        at = 0.0
        while at < length:
            end = min(at + dash, length)
            draw.line(
                [(x0 + dx * at, y0 + dy * at), (x0 + dx * end, y0 + dy * end)],
                fill=fill,
                width=width,
            )
            at = end + gap


def render(picture: ladder.Layout, title: str, lane_names: dict[str, str]) -> bytes:
    image = Image.new("RGB", (WIDTH, HEIGHT), PAPER)
    draw = ImageDraw.Draw(image)
    draw.text((MARGIN, 16), _fit(draw, title, _font(34), WIDTH - 2 * MARGIN), INK, _font(34))

    # Time keeps its scale down the picture; across, the lanes are widened to the preview's
    # landscape shape (the horizontal says only which state acted).
    area_w, area_h = WIDTH - 2 * MARGIN, HEIGHT - HEADER - MARGIN
    sx, scale = area_w / picture.width, area_h / max(picture.height, 1)
    left = MARGIN

    def at(x: float, y: float) -> tuple[float, float]:
        return (left + x * sx, HEADER + y * scale)

    def lane_x(lane: str) -> tuple[float, float]:
        if lane == "a":
            return at(ladder.AXIS_X, 0)[0], at(ladder.RAIL_A, 0)[0]
        return at(ladder.RAIL_B, 0)[0], at(picture.width, 0)[0]

    for lane in "ab":
        x0, x1 = lane_x(lane)
        draw.rectangle([x0, HEADER, x1, HEADER + picture.height * scale], fill=LANE_WASH[lane])
        name = _fit(draw, lane_names.get(lane, ""), _font(22), x1 - x0)
        draw.text((x0 + 4, HEADER - 34), name, LANE[lane], _font(22))
    small = _font(14)
    for tick in picture.ticks:
        if tick.major:
            y = at(0, tick.y)[1]
            draw.line([at(ladder.AXIS_X - 4, tick.y), (left + picture.width * sx, y)], RULE)
            draw.text((left, y + 2), tick.label, INK, small)
    for segment in picture.segments:
        for rail in (ladder.RAIL_A, ladder.RAIL_B):
            draw.line([at(rail, segment.y0), at(rail, segment.y1)], fill=(138, 150, 163), width=2)
    for cut in picture.breaks:
        y0, y1 = at(0, cut.y0)[1], at(0, cut.y1)[1]
        draw.rectangle([left, y0, left + picture.width * sx, y1], fill=PAPER)
        for y in (y0 + 3, y1 - 3):
            teeth = [(left + i * 8, y + (3 if i % 2 else -3)) for i in range(int(area_w / 8))]
            draw.line(teeth, fill=MUTED, width=2)
        label = _fit(draw, cut.label, small, area_w)
        x = at((ladder.RAIL_A + ladder.RAIL_B) / 2, 0)[0] - draw.textlength(label, small) / 2
        # on paper of its own: a cut scaled down to a preview is thinner than the words
        box = draw.textbbox((x, (y0 + y1) / 2 - 8), label, font=small)
        top, bottom = min(box[1], y0) - 3, max(box[3], y1) + 3  # the zigzags break for it
        draw.rectangle([box[0] - 4, top, box[2] + 4, bottom], fill=PAPER)
        draw.text((x, (y0 + y1) / 2 - 8), label, MUTED, small)

    for step in picture.steps:
        colour = LANE[step.lane]
        x0, y0 = at(step.card_x, step.card_y)
        x1, y1 = at(step.card_x + step.card_w, step.card_y + step.card_h)
        draw.rounded_rectangle([x0, y0, x1, y1], radius=3, fill=PAPER, outline=colour, width=2)
        words = _fit(draw, step.title, small, x1 - x0 - 8)
        if y1 - y0 >= 18:
            draw.text((x0 + 4, y0 + 2), words, INK, small)
        bx0, by0 = at(step.bar_x, step.y0)
        bx1, by1 = at(step.bar_x + ladder.BAR_WIDTH, step.y1)
        bx1, by1 = max(bx1, bx0 + 3), max(by1, by0 + 3)
        if step.inferred:
            draw.rectangle([bx0, by0, bx1, by1], fill=PAPER, outline=colour, width=1)
            for y in range(int(by0), int(by1), 5):
                draw.line([(bx0, y + 3), (bx1, y)], fill=colour, width=1)
        else:
            draw.rectangle([bx0, by0, bx1, by1], fill=colour)

    for link in picture.links:
        (x0, y0), (x1, y1) = link.start, link.end
        points = [at(x0, y0), at(link.track_x, y0), at(link.track_x, y1), at(x1, y1)]
        colour = MARK_COLOUR[link.mark]
        if link.mark == ladder.DASHED:
            _dashed(draw, points, colour, 3)
        elif link.mark == ladder.HOLLOW:
            draw.line(points, fill=colour, width=6, joint="curve")
            draw.line(points, fill=PAPER, width=2, joint="curve")
        else:
            draw.line(points, fill=colour, width=3, joint="curve")
        mx, my = at(*link.middle)
        if link.mark == ladder.CONTESTED:
            draw.polygon([(mx, my - 7), (mx + 7, my), (mx, my + 7), (mx - 7, my)], PAPER, colour, 3)
        if link.mark == ladder.HOLLOW:
            draw.line([(mx - 5, my - 5), (mx + 5, my + 5)], fill=colour, width=3)
            draw.line([(mx - 5, my + 5), (mx + 5, my - 5)], fill=colour, width=3)
        ex, ey = points[-1]
        direction = 1 if points[-1][0] >= points[-2][0] else -1
        draw.polygon([(ex, ey), (ex - 9 * direction, ey - 5), (ex - 9 * direction, ey + 5)], colour)

    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
