"""Small bar charts as inline SVG, drawn on the server: no script, no CDN, readable without colour.

A charting library would bring far more than two kinds of bars need; these are plain SVG with a <title>
per bar (the value on hover and for screen readers) and every label escaped.
"""

from __future__ import annotations

from markupsafe import Markup, escape

BAR_COLOUR = "#0b5cad"
WIDTH = 640
ROW_HEIGHT = 22
LABEL_WIDTH = 170


def column_chart(points: list[tuple[str, float]], title: str, percent: bool = False, height: int = 180) -> Markup:
    """Vertical bars over time (one per day, say), labelled under the first and last bar."""
    if not points:
        return Markup("")
    top = 1.0 if percent else max(value for _, value in points) or 1.0
    plot_height = height - 40
    step = (WIDTH - 60) / len(points)
    bars = []
    for index, (label, value) in enumerate(points):
        bar_height = plot_height * value / top
        x = 50 + index * step
        shown = f"{value:.0%}" if percent else f"{value:g}"
        bars.append(
            f'<rect x="{x:.1f}" y="{10 + plot_height - bar_height:.1f}" width="{max(step - 2, 1):.1f}" '
            f'height="{bar_height:.1f}" fill="{BAR_COLOUR}"><title>{escape(label)}: {shown}</title></rect>'
        )
    axis_top = "100%" if percent else f"{top:g}"
    first, last = escape(points[0][0]), escape(points[-1][0])
    return Markup(
        f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {height}" width="100%" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
        f'<text x="0" y="18" font-size="11">{axis_top}</text>'
        f'<text x="0" y="{10 + plot_height}" font-size="11">0</text>'
        f'<line x1="48" y1="{10 + plot_height}" x2="{WIDTH - 10}" y2="{10 + plot_height}" stroke="#888"/>'
        + "".join(bars)
        + f'<text x="50" y="{height - 8}" font-size="11">{first}</text>'
        f'<text x="{WIDTH - 10}" y="{height - 8}" font-size="11" text-anchor="end">{last}</text></svg>'
    )


def bar_chart(rows: list[tuple[str, float, str]], title: str, percent: bool = True) -> Markup:
    """Horizontal bars, one per labelled row, each with its value (and a note) written beside it."""
    if not rows:
        return Markup("")
    top = 1.0 if percent else max(value for _, value, _ in rows) or 1.0
    height = ROW_HEIGHT * len(rows) + 10
    plot_width = WIDTH - LABEL_WIDTH - 120
    parts = []
    for index, (label, value, note) in enumerate(rows):
        y = 5 + index * ROW_HEIGHT
        width = plot_width * value / top
        shown = f"{value:.0%}" if percent else f"{value:g}"
        parts.append(
            f'<text x="{LABEL_WIDTH - 6}" y="{y + 14}" font-size="12" text-anchor="end">{escape(label)}</text>'
            f'<rect x="{LABEL_WIDTH}" y="{y + 3}" width="{width:.1f}" height="{ROW_HEIGHT - 8}" fill="{BAR_COLOUR}">'
            f'<title>{escape(label)}: {shown}</title></rect>'
            f'<text x="{LABEL_WIDTH + width + 6:.1f}" y="{y + 14}" font-size="12">{shown} {escape(note)}</text>'
        )
    return Markup(
        f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {height}" width="100%" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>' + "".join(parts) + "</svg>"
    )
