"""Charts drawn on the server as SVG, each with the same numbers as a table.

Pure functions: numbers and already translated labels in, a :class:`Chart` out (its SVG, its table,
and the table as CSV, the picture as PNG for downloads). No JavaScript is needed to read them.

Accessibility: every SVG is ``role="img"`` labelled by its ``<title>`` and ``<desc>``; colour is
never the only carrier (values are written on bars and cells, significance is a mark, line series
differ in dash pattern too); every chart comes with its table. Only presentation attributes are used
(no ``style`` attributes), so the pictures live under a strict Content-Security-Policy and look the
same when downloaded on their own.
"""
from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from typing import Callable, Sequence

from markupsafe import Markup, escape

FONT = "DejaVu Sans, Liberation Sans, Arial, sans-serif"
INK = "#1f2933"
MUTED = "#52606d"
GRID = "#d9e2ec"
BAR = "#1d5fa8"
SERIES = ("#1d5fa8", "#c2410c", "#047857", "#7c3aed", "#b91c1c")
DASHES = ("", "6 3", "2 3", "8 3 2 3", "1 2")
TINTS = ("#dbeafe", "#fde68a", "#d1fae5", "#ede9fe", "#fee2e2", "#e0f2fe", "#fef3c7", "#dcfce7",
         "#f3e8ff", "#ffe4e6", "#cffafe", "#ecfccb")
CHAR_W = 0.58  # average glyph width of the font, in em: enough to lay labels out without a font engine
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class Table:
    """The numbers of a chart: column headers and rows of plain values."""

    columns: list[str]
    rows: list[list]

    def csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow([_safe(c) for c in self.columns])
        for row in self.rows:
            writer.writerow([_safe(v) for v in row])
        return out.getvalue()


@dataclass
class Chart:
    name: str  # file name stem of the downloads
    title: str
    desc: str
    svg: Markup
    table: Table
    width: int = 0
    height: int = 0
    links: list = field(default_factory=list)  # the hrefs the picture links to, in order

    def csv(self) -> str:
        return self.table.csv()

    def svg_document(self) -> bytes:
        return ('<?xml version="1.0" encoding="UTF-8"?>\n' + str(self.svg)).encode()

    def png(self, scale: float = 2.0) -> bytes:
        import cairosvg  # imported here: only downloads need cairo

        return cairosvg.svg2png(bytestring=str(self.svg).encode(), scale=scale, background_color="white")


def _safe(value):
    """A CSV cell a spreadsheet shows as text and never runs as a formula."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _attrs(attrs: dict) -> str:
    parts = []
    for key, value in attrs.items():
        if value is None:
            continue
        key = key.rstrip("_").replace("_", "-")
        parts.append(f' {key}="{escape(value)}"')
    return "".join(parts)


def el(tag: str, content: str = "", **attrs) -> str:
    """An SVG element; ``content`` is trusted markup (escape text with :func:`text`)."""
    if content == "" and tag not in ("text", "title", "desc", "a", "g"):
        return f"<{tag}{_attrs(attrs)}/>"
    return f"<{tag}{_attrs(attrs)}>{content}</{tag}>"


def text(x, y, value, size=13, anchor="start", weight=None, fill=INK, **attrs) -> str:
    return el("text", str(escape(value)), x=_n(x), y=_n(y), font_size=size, text_anchor=anchor,
              font_weight=weight, fill=fill, font_family=FONT, **attrs)


def _n(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".") if isinstance(v, float) else str(v)


def fit(label: str, width: float, size: float) -> str:
    """The label cut with an ellipsis to fit ``width`` pixels at font ``size``."""
    room = max(1, int(width / (size * CHAR_W)))
    return label if len(label) <= room else label[: max(1, room - 1)].rstrip() + "…"


def _svg(ident: str, title: str, desc: str, width: int, height: int, body: str, linked: bool = False) -> Markup:
    """The SVG document: an image, or a group when it holds links (an image's content is not operable)."""
    head = (el("title", str(escape(title)), id=f"{ident}-title")
            + el("desc", str(escape(desc)), id=f"{ident}-desc"))
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="{"group" if linked else "img"}" '
        f'class="chart" id="{escape(ident)}" aria-labelledby="{escape(ident)}-title {escape(ident)}-desc">'
        f'{head}{el("rect", x=0, y=0, width=width, height=height, fill="#ffffff")}{body}</svg>')


def _link(href: str | None, content: str, label: str) -> str:
    if not href:
        return content
    return el("a", content, href=href, **{"xlink:href": href})


def nice_max(value: float) -> float:
    """The smallest 1, 2 or 5 times a power of ten at or above ``value`` (axis ends)."""
    if value <= 0:
        return 1.0
    exp = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * exp:
            return step * exp
    return 10 * exp


def _default_fmt(v) -> str:
    if isinstance(v, float) and not v.is_integer():
        return f"{v:.1f}"
    return f"{int(v):,}".replace(",", " ")


# -- horizontal bars ------------------------------------------------------------------------------
def bar_chart(name: str, title: str, desc: str, items: Sequence[tuple], *, columns: Sequence[str],
              fmt: Callable = _default_fmt, width: int = 640, colour: str = BAR) -> Chart:
    """Horizontal bars: ``items`` are ``(label, value)`` or ``(label, value, href)``."""
    row_h, gap, top, pad = 26, 8, 12, 8
    size = 13
    longest = max((len(str(i[0])) for i in items), default=4)
    label_w = min(int(width * 0.38), int(longest * size * CHAR_W) + 16)
    value_w = 64
    bar_w = width - label_w - value_w - 2 * pad
    vmax = max((float(i[1]) for i in items), default=0.0) or 1.0
    body, links = [], []
    for k, item in enumerate(items):
        label, value = str(item[0]), float(item[1])
        href = item[2] if len(item) > 2 else None
        y = top + k * (row_h + gap)
        w = max(1.0, bar_w * value / vmax) if value > 0 else 0
        shown = fmt(item[1])
        group = (el("title", str(escape(f"{label}: {shown}")))
                 + text(pad + label_w - 6, y + row_h * 0.68, fit(label, label_w - 8, size), size, "end")
                 + el("rect", x=pad + label_w, y=y, width=_n(float(w)), height=row_h, fill=colour, rx=3)
                 + text(pad + label_w + w + 6, y + row_h * 0.68, shown, size, weight="600"))
        body.append(_link(href, el("g", group), f"{label}: {shown}"))
        if href:
            links.append(href)
    height = top + len(items) * (row_h + gap) + pad
    table = Table(list(columns), [[str(i[0]), i[1]] for i in items])
    return Chart(name, title, desc, _svg(name, title, desc, width, height, "".join(body), bool(links)), table,
                 width, height, links)


def grouped_bar_chart(name: str, title: str, desc: str, groups: Sequence[tuple], *, columns: Sequence[str],
                      fmt: Callable = _default_fmt, width: int = 640) -> Chart:
    """Bars in groups: ``groups`` are ``(group label, [(bar label, value), ...])``, one heading per group
    and the bars of all groups on one scale (poll answers split by age group, ...)."""
    row_h, gap, head_h, pad, size = 22, 6, 28, 8, 12
    longest = max((len(str(b[0])) for _, bars in groups for b in bars), default=4)
    label_w = min(int(width * 0.38), int(longest * size * CHAR_W) + 16)
    bar_w = width - label_w - 64 - 2 * pad
    vmax = max((float(b[1]) for _, bars in groups for b in bars), default=0.0) or 1.0
    body, y, rows = [], pad, []
    for g, bars in groups:
        body.append(text(pad, y + 18, fit(str(g), width - 2 * pad, 13), 13, weight="700"))
        y += head_h
        for k, (label, value) in enumerate(bars):
            w = max(1.0, bar_w * float(value) / vmax) if value else 0
            colour = SERIES[k % len(SERIES)]
            body.append(el("g", el("title", str(escape(f"{g}, {label}: {fmt(value)}")))
                           + text(pad + label_w - 6, y + row_h * 0.7, fit(str(label), label_w - 8, size), size, "end")
                           + el("rect", x=pad + label_w, y=y, width=_n(float(w)), height=row_h, fill=colour, rx=3)
                           + text(pad + label_w + w + 6, y + row_h * 0.7, fmt(value), size, weight="600")))
            rows.append([str(g), str(label), value])
            y += row_h + gap
        y += gap
    height = int(y + pad)
    return Chart(name, title, desc, _svg(name, title, desc, width, height, "".join(body)),
                 Table(list(columns), rows), width, height)


# -- a line (area) chart over time ------------------------------------------------------------------
def line_chart(name: str, title: str, desc: str, dates: Sequence[str], series: Sequence[tuple],
               *, date_label: str, fmt: Callable = _default_fmt, date_fmt: Callable = str,
               width: int = 640, height: int = 280) -> Chart:
    """Lines over days: ``series`` are ``(name, [value per date])``; the first is also filled."""
    left, right, top, bottom = 48, 16, 16, 64
    plot_w, plot_h = width - left - right, height - top - bottom
    vmax = nice_max(max((max(values, default=0) for _, values in series), default=0))
    n = len(dates)

    def x(i: int) -> float:
        return left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)

    def y(v: float) -> float:
        return top + plot_h - plot_h * v / vmax

    body = []
    for k in range(5):  # grid and y ticks
        v = vmax * k / 4
        body.append(el("line", x1=left, x2=left + plot_w, y1=_n(y(v)), y2=_n(y(v)), stroke=GRID))
        body.append(text(left - 6, y(v) + 4, fmt(v if not float(v).is_integer() else int(v)), 11, "end", fill=MUTED))
    ticks = sorted({0, n - 1, *[round(i * (n - 1) / 5) for i in range(1, 5)]}) if n > 1 else [0] * bool(n)
    for i in ticks:
        anchor = "start" if i == 0 and n > 1 else "end" if i == n - 1 and n > 1 else "middle"
        body.append(text(x(i), top + plot_h + 16, date_fmt(dates[i]), 11, anchor, fill=MUTED))
    for k, (label, values) in enumerate(series):
        colour = SERIES[k % len(SERIES)]
        pts = [(x(i), y(float(v))) for i, v in enumerate(values)]
        if not pts:
            continue
        path = " ".join(f"{_n(px)},{_n(py)}" for px, py in pts)
        if k == 0 and len(pts) > 1:
            area = f"{_n(pts[0][0])},{_n(y(0))} {path} {_n(pts[-1][0])},{_n(y(0))}"
            body.append(el("polygon", points=area, fill=colour, fill_opacity="0.12"))
        body.append(el("polyline", points=path, fill="none", stroke=colour, stroke_width=2.5,
                       stroke_dasharray=DASHES[k % len(DASHES)] or None, stroke_linejoin="round"))
        if len(pts) == 1:
            body.append(el("circle", cx=_n(pts[0][0]), cy=_n(pts[0][1]), r=4, fill=colour))
    lx = left  # legend under the axis
    for k, (label, _) in enumerate(series):
        colour = SERIES[k % len(SERIES)]
        ly = height - 18
        body.append(el("line", x1=lx, x2=lx + 24, y1=ly - 4, y2=ly - 4, stroke=colour, stroke_width=3,
                       stroke_dasharray=DASHES[k % len(DASHES)] or None))
        body.append(text(lx + 30, ly, label, 12))
        lx += 30 + int(len(label) * 12 * CHAR_W) + 18
    body.append(el("line", x1=left, x2=left + plot_w, y1=top + plot_h, y2=top + plot_h, stroke=MUTED))
    table = Table([date_label, *[s[0] for s in series]],
                  [[d, *[s[1][i] for s in series]] for i, d in enumerate(dates)])
    return Chart(name, title, desc, _svg(name, title, desc, width, height, "".join(body)), table, width, height)


# -- heatmap ---------------------------------------------------------------------------------------
def lift_colour(lift: float | None) -> str:
    """Diverging scale on log2(lift): blue below 1 (fewer than expected), white at 1, orange above;
    clamped at 0.25x and 4x."""
    if lift is None:
        return "#f0f4f8"
    if lift <= 0:
        t = -1.0
    else:
        t = max(-1.0, min(1.0, math.log2(lift) / 2))
    white = (255, 255, 255)
    end = (194, 65, 12) if t > 0 else (29, 95, 168)
    r, g, b = (round(w + (e - w) * abs(t)) for w, e in zip(white, end))
    return f"#{r:02x}{g:02x}{b:02x}"


LIFT_STEPS = (0.25, 0.35, 0.5, 0.71, 1.0, 1.41, 2.0, 2.83, 4.0)


def lift_step(lift: float | None) -> int:
    """The step of the legend's scale nearest to ``lift`` (0-8; 4 is 1x): CSS classes lift-0..lift-8
    colour the table's cells as the picture does."""
    if lift is None:
        return 4
    t = max(-2.0, min(2.0, math.log2(lift))) if lift > 0 else -2.0
    return int(round((t + 2) * 2))


def ink_on(fill: str) -> str:
    """Black or white text, whichever contrasts more with ``fill``."""
    r, g, b = (int(fill[i:i + 2], 16) / 255 for i in (1, 3, 5))
    lum = sum(c * (((v + 0.055) / 1.055) ** 2.4 if v > 0.03928 else v / 12.92)
              for c, v in zip((0.2126, 0.7152, 0.0722), (r, g, b)))
    return "#ffffff" if (1.05 / (lum + 0.05)) > ((lum + 0.05) / 0.05) else "#111111"


def significance_mark(p: float | None) -> str:
    if p is None:
        return ""
    return "***" if p < 0.001 else "**" if p < 0.01 else "*" if p < 0.05 else ""


@dataclass(frozen=True)
class Cell:
    count: int
    expected: float
    lift: float
    p_value: float
    href: str | None = None


def heatmap(name: str, title: str, desc: str, rows: Sequence[str], cols: Sequence[str],
            cells: dict[tuple[int, int], Cell], *, columns: Sequence[str], legend: dict[str, str],
            fmt_lift: Callable = lambda v: f"{v:.2g}×", width: int | None = None) -> Chart:
    """A grid of ``rows`` (topics) x ``cols`` (groups); ``cells[(i, j)]`` colours by lift, shows the lift
    and a significance mark. ``legend``: translated ``fewer``, ``more``, ``significance`` texts."""
    size = 12
    label_w = min(220, int(max((len(r) for r in rows), default=4) * size * CHAR_W) + 24)
    cell_w = max(64, min(110, int(max((len(c) for c in cols), default=4) * 11 * CHAR_W) + 12))
    cell_h, top = 40, 34
    legend_w = label_w + 9 * 26 + 8 + int(len(legend.get("more", "")) * 11 * CHAR_W) + 8
    width = max(width or (label_w + cell_w * len(cols) + 16), legend_w,
                int(len(legend.get("significance", "")) * 11 * CHAR_W) + 24)
    cell_w = (width - label_w - 16) / max(1, len(cols))
    grid_h = cell_h * len(rows)
    legend_h = 64
    height = top + grid_h + legend_h
    body, links = [], []
    for j, c in enumerate(cols):
        body.append(text(label_w + cell_w * (j + 0.5), top - 10, fit(c, cell_w - 4, 11), 11, "middle",
                         weight="600"))
    for i, r in enumerate(rows):
        y = top + i * cell_h
        body.append(text(label_w - 8, y + cell_h * 0.6, fit(r, label_w - 12, size), size, "end"))
        for j, c in enumerate(cols):
            cell = cells.get((i, j))
            x = label_w + j * cell_w
            fill = lift_colour(cell.lift if cell else None)
            ink = ink_on(fill)
            mark = significance_mark(cell.p_value) if cell else ""
            shown = f"{fmt_lift(cell.lift)}{mark}" if cell else "–"
            g = (el("rect", x=_n(float(x)), y=y, width=_n(float(cell_w - 2)), height=cell_h - 2, fill=fill,
                    stroke="#ffffff")
                 + text(x + cell_w / 2 - 1, y + cell_h * 0.6, shown, size, "middle", fill=ink,
                        weight="700" if mark else None))
            label = f"{r}, {c}: {shown}" + (f" ({cell.count})" if cell else "")
            g = el("title", str(escape(label))) + g
            body.append(_link(cell.href if cell else None, el("g", g), label))
            if cell and cell.href:
                links.append(cell.href)
    ly = top + grid_h + 18  # legend: a discrete scale from 0.25x to 4x, then the marks
    steps = LIFT_STEPS
    sw = 26
    lx = label_w
    body.append(text(lx - 8, ly + 13, legend.get("fewer", ""), 11, "end", fill=MUTED))
    for k, s in enumerate(steps):
        body.append(el("rect", x=lx + k * sw, y=ly, width=sw, height=16, fill=lift_colour(s), stroke=GRID))
    for s in (0.25, 1.0, 4.0):
        k = steps.index(s)
        body.append(text(lx + k * sw + sw / 2, ly + 30, fmt_lift(s), 10, "middle", fill=MUTED))
    body.append(text(lx + len(steps) * sw + 8, ly + 13, legend.get("more", ""), 11, fill=MUTED))
    body.append(text(8, ly + 44, legend.get("significance", ""), 11, fill=MUTED))
    table_rows = []
    for i, r in enumerate(rows):
        for j, c in enumerate(cols):
            cell = cells.get((i, j))
            if cell:
                table_rows.append([r, c, cell.count, round(cell.expected, 2), round(cell.lift, 3),
                                   _p(cell.p_value)])
    svg = _svg(name, title, desc, int(width), int(height), "".join(body), bool(links))
    return Chart(name, title, desc, svg, Table(list(columns), table_rows), int(width), int(height), links)


def _p(p: float) -> float:
    return float(f"{p:.3g}")


# -- topics as a treemap ----------------------------------------------------------------------------
def squarify(sizes: Sequence[float], x: float, y: float, w: float, h: float) -> list[tuple[float, float, float, float]]:
    """Squarified treemap (Bruls, Huizing, van Wijk): rectangles for ``sizes`` (sorted descending)
    filling ``(x, y, w, h)``, areas proportional to the sizes, as close to squares as rows allow."""
    total = float(sum(sizes))
    if total <= 0 or not sizes:
        return [(x, y, 0.0, 0.0) for _ in sizes]
    areas = [s * w * h / total for s in sizes]
    rects: list[tuple[float, float, float, float]] = []

    def worst(row: list[float], side: float) -> float:
        s = sum(row)
        return max(max(side * side * r / (s * s), (s * s) / (side * side * r)) for r in row)

    i = 0
    while i < len(areas):
        side = min(w, h)
        row = [areas[i]]
        i += 1
        while i < len(areas) and worst(row + [areas[i]], side) <= worst(row, side):
            row.append(areas[i])
            i += 1
        s = sum(row)
        if w >= h:  # lay the row as a column on the left
            cw = s / h if h else 0
            cy = y
            for a in row:
                rh = a / cw if cw else 0
                rects.append((x, cy, cw, rh))
                cy += rh
            x, w = x + cw, w - cw
        else:  # a row along the top
            rh = s / w if w else 0
            cx = x
            for a in row:
                rw = a / rh if rh else 0
                rects.append((cx, y, rw, rh))
                cx += rw
            y, h = y + rh, h - rh
    return rects


def treemap(name: str, title: str, desc: str, items: Sequence[dict], *, columns: Sequence[str],
            size_label: Callable = _default_fmt, width: int = 640, height: int = 400) -> Chart:
    """Topics as tiles sized by their ideas: ``items`` are ``{label, size, words: [..], href?}``."""
    order = sorted(range(len(items)), key=lambda k: -items[k]["size"])
    rects = squarify([items[k]["size"] for k in order], 0, 0, width, height)
    body, links = [], []
    for pos, (k, (x, y, w, h)) in enumerate(zip(order, rects)):
        item = items[k]
        fill = TINTS[k % len(TINTS)]
        label, words = str(item["label"]), ", ".join(item.get("words", [])[:4])
        parts = [el("title", str(escape(f"{label}: {size_label(item['size'])}. {words}"))),
                 el("rect", x=_n(float(x)), y=_n(float(y)), width=_n(max(0.0, w - 2)), height=_n(max(0.0, h - 2)),
                    fill=fill, stroke="#ffffff", stroke_width=2)]
        size = 15 if w > 160 and h > 70 else 12
        if h >= 22 and w >= 40:
            parts.append(text(x + 8, y + 8 + size, fit(label, w - 16, size), size, weight="700"))
        if h >= 44 and w >= 60:
            parts.append(text(x + 8, y + 12 + size + 16, fit(size_label(item["size"]), w - 16, 12), 12, fill=MUTED))
        if h >= 66 and w >= 90 and words:
            parts.append(text(x + 8, y + 12 + size + 34, fit(words, w - 16, 11), 11, fill=MUTED))
        body.append(_link(item.get("href"), el("g", "".join(parts)), f"{label}: {size_label(item['size'])}"))
        if item.get("href"):
            links.append(item["href"])
    table = Table(list(columns), [[it["label"], it["size"], ", ".join(it.get("words", []))] for it in items])
    return Chart(name, title, desc, _svg(name, title, desc, width, height, "".join(body), bool(links)), table,
                 width, height, links)
