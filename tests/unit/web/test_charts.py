"""Server-side charts: accessible SVG, the same numbers as a table, CSV and PNG downloads."""
import csv
import io
import re
from xml.etree import ElementTree

import pytest

from web import charts

SVG = "{http://www.w3.org/2000/svg}"


def parse(chart):
    return ElementTree.fromstring(str(chart.svg))


def assert_accessible(chart):
    root = parse(chart)
    assert root.get("role") == ("group" if chart.links else "img")  # an image's content is not operable
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title.text == chart.title and desc.text == chart.desc
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    assert "style=" not in str(chart.svg)  # presentation attributes only: strict CSP, self-contained files


def test_bar_chart_bars_are_proportional_and_labelled():
    c = charts.bar_chart("ideas", "Ideas by topic", "Bars", [("Cycling", 40, "/t/1"), ("Parking <cars>", 10)],
                         columns=["topic", "ideas"])
    assert_accessible(c)
    rects = [r for r in parse(c).iter(f"{SVG}rect")][1:]  # the first is the background
    assert float(rects[0].get("width")) == pytest.approx(4 * float(rects[1].get("width")), abs=0.5)
    assert "Parking &lt;cars&gt;" in str(c.svg)  # labels are escaped
    assert c.links == ["/t/1"]
    assert c.table.rows == [["Cycling", 40], ["Parking <cars>", 10]]


def test_csv_has_the_table_and_neutralises_formulas():
    c = charts.bar_chart("x", "t", "d", [("=HYPERLINK(\"evil\")", 3), ("plain", 1)], columns=["label", "n"])
    rows = list(csv.reader(io.StringIO(c.csv())))
    assert rows == [["label", "n"], ["'=HYPERLINK(\"evil\")", "3"], ["plain", "1"]]


def test_a_chart_without_links_is_an_image():
    c = charts.treemap("t", "Topics", "d", [{"label": "a", "size": 2, "words": []}], columns=["a", "b", "c"])
    assert parse(c).get("role") == "img" and "<a " not in str(c.svg)


def test_png_is_rendered_from_the_svg():
    c = charts.bar_chart("x", "t", "d", [("a", 1)], columns=["a", "b"])
    png = c.png()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width = int.from_bytes(png[16:20], "big")
    assert width == c.width * 2


def test_line_chart_has_one_line_per_series_and_a_row_per_day():
    days = ["2026-11-01", "2026-11-02", "2026-11-03"]
    c = charts.line_chart("p", "Participation", "d", days, [("ideas", [1, 4, 2]), ("votes", [0, 8, 3])],
                          date_label="day")
    assert_accessible(c)
    lines = list(parse(c).iter(f"{SVG}polyline"))
    assert len(lines) == 2
    assert lines[1].get("stroke-dasharray")  # series differ by more than colour
    assert c.table.columns == ["day", "ideas", "votes"]
    assert c.table.rows[1] == ["2026-11-02", 4, 8]
    # the highest value touches the top of the plot (axis end 10), zero sits on the axis
    ys = [float(p.split(",")[1]) for p in lines[1].get("points").split()]
    assert ys[0] > ys[2] > ys[1]


@pytest.mark.parametrize("lift,expected", [(1.0, "#ffffff"), (4.0, "#c2410c"), (8.0, "#c2410c"),
                                           (0.25, "#1d5fa8"), (0.0, "#1d5fa8")])
def test_lift_colour_scale_is_diverging_and_clamped(lift, expected):
    assert charts.lift_colour(lift) == expected


def test_text_colour_contrasts_with_the_cell():
    assert charts.ink_on("#ffffff") == "#111111"
    assert charts.ink_on("#1d5fa8") == "#ffffff"


@pytest.mark.parametrize("p,mark", [(0.0001, "***"), (0.005, "**"), (0.03, "*"), (0.2, ""), (None, "")])
def test_significance_marks(p, mark):
    assert charts.significance_mark(p) == mark


def test_heatmap_cells_show_lift_and_mark_and_link_to_their_ideas():
    cells = {(0, 0): charts.Cell(30, 12.0, 2.5, 0.0001, "/ideas?topic=0&g=a"),
             (0, 1): charts.Cell(2, 20.0, 0.1, 0.02, "/ideas?topic=0&g=b")}
    c = charts.heatmap("h", "Topics by age", "d", ["cycling"], ["under 25", "65+"], cells,
                       columns=["topic", "group", "ideas", "expected", "lift", "p"],
                       legend={"fewer": "fewer", "more": "more", "significance": "* p < 0.05"})
    assert_accessible(c)
    svg = str(c.svg)
    assert "2.5×***" in svg and "0.1×*" in svg
    assert c.links == ["/ideas?topic=0&g=a", "/ideas?topic=0&g=b"]
    assert c.table.rows[0] == ["cycling", "under 25", 30, 12.0, 2.5, 0.0001]


def test_squarify_fills_the_box_with_proportional_areas():
    sizes = [6, 6, 4, 3, 2, 2, 1]
    rects = charts.squarify(sizes, 0, 0, 600, 400)
    areas = [w * h for _, _, w, h in rects]
    assert sum(areas) == pytest.approx(600 * 400)
    for a, s in zip(areas, sizes):
        assert a == pytest.approx(600 * 400 * s / sum(sizes))
    for x, y, w, h in rects:
        assert x >= -1e-6 and y >= -1e-6 and x + w <= 600 + 1e-6 and y + h <= 400 + 1e-6
    # squarified: no sliver much longer than wide for these sizes
    assert max(max(w / h, h / w) for _, _, w, h in rects) < 4


def test_treemap_tiles_link_to_their_topics():
    items = [{"label": "parking", "size": 5, "words": ["car"], "href": "/t/1"},
             {"label": "cycling", "size": 20, "words": ["bike", "lane"], "href": "/t/0"}]
    c = charts.treemap("topics", "Topics", "d", items, columns=["topic", "ideas", "words"])
    assert_accessible(c)
    assert c.links == ["/t/0", "/t/1"]  # largest first
    assert c.table.rows == [["parking", 5, "car"], ["cycling", 20, "bike, lane"]]


def test_fit_cuts_long_labels_with_an_ellipsis():
    assert charts.fit("short", 200, 12) == "short"
    cut = charts.fit("a very long topic label indeed", 60, 12)
    assert cut.endswith("…") and len(cut) < 12


def test_nice_axis_ends():
    assert [charts.nice_max(v) for v in (0, 3, 7, 9, 11, 240)] == [1.0, 5, 10, 10, 20, 250]


def test_svg_document_is_standalone_xml():
    c = charts.bar_chart("x", "t & co", "d", [("a", 1)], columns=["a", "b"])
    doc = c.svg_document()
    assert doc.startswith(b"<?xml")
    assert re.search(rb'xmlns="http://www.w3.org/2000/svg"', doc)
    ElementTree.fromstring(doc)
