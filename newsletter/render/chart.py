"""Attention over time as static SVG, drawn at build time: no script, no
library in the page. A paper's chart has one line per source (cumulative
score over the hours since the announcement); an issue's chart compares its
top papers. Each chart carries a title and a description for screen
readers, and the page shows the same figures as a table."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from xml.sax.saxutils import escape, quoteattr

from newsletter.models import Post
from newsletter.rank import post_score

W, H = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 12, 28
MARKS = (6, 12, 24, 48, 72, 120, 168, 240, 336)  # hours a table reports


@dataclass(frozen=True)
class Line:
    """One line of a chart: a label and its cumulative points (hours, total)."""

    key: str  # what colours it: a source, or a rank
    label: str
    points: tuple[tuple[float, int], ...]
    short: str = ""  # in the legend, when the label is long (the table gives the label)

    @property
    def total(self) -> int:
        return self.points[-1][1] if self.points else 0

    def at(self, hours: float) -> int:
        return max((v for h, v in self.points if h <= hours), default=0)


def cumulative(posts: Iterable[Post], start: datetime) -> tuple[tuple[float, int], ...]:
    """Each post's score added at its hour since ``start`` (a post without a
    time counts from the start)."""
    steps = sorted((max(0.0, (p.created_at - start).total_seconds() / 3600) if p.created_at else 0.0, post_score(p))
                   for p in posts)
    out, total = [], 0
    for h, score in steps:
        total += score
        out.append((round(h, 2), total))
    return tuple(out)


def span(lines: Sequence[Line], window: float) -> float:
    """The hours a chart covers: the window, or longer when posts came later."""
    last = max((pts[-1][0] for pts in (line.points for line in lines) if pts), default=0.0)
    return max(window, last)


def _ticks(top: float, n: int = 4) -> list[int]:
    if top <= 0:
        return [0]
    raw = top / n
    mag = 10 ** (len(str(int(raw))) - 1)
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    return list(range(0, int(top) + step, step))


def svg(lines: Sequence[Line], hours: float, title: str, description: str, ident: str) -> str:
    """The chart: axes (hours, points), one step line per ``lines`` entry."""
    ticks = _ticks(max((line.total for line in lines), default=0) or 1)
    top = max(ticks[-1], 1)

    def x(h: float) -> float:
        return LEFT + (W - LEFT - RIGHT) * min(h, hours) / hours

    def y(v: float) -> float:
        return TOP + (H - TOP - BOTTOM) * (1 - v / top)
    out = [f'<svg class="chart" viewBox="0 0 {W} {H}" role="img" aria-labelledby="{ident}-t {ident}-d" '
           f'xmlns="http://www.w3.org/2000/svg">', f'<title id="{ident}-t">{escape(title)}</title>',
           f'<desc id="{ident}-d">{escape(description)}</desc>']
    for t in ticks:
        out.append(f'<line class="grid" x1="{LEFT}" x2="{W - RIGHT}" y1="{y(t):.1f}" y2="{y(t):.1f}"/>'
                   f'<text class="axis" x="{LEFT - 6}" y="{y(t) + 4:.1f}" text-anchor="end">{t:,}</text>')
    step = 24 if hours <= 96 else 48 if hours <= 240 else 168
    for tick in range(0, int(hours) + 1, step if hours >= 24 else 6):
        out.append(f'<text class="axis" x="{x(tick):.1f}" y="{H - 8}" text-anchor="middle">{tick} h</text>')
    for n, line in enumerate(lines):
        pts, prev = [f"{x(0):.1f},{y(0):.1f}"], 0
        for h, v in line.points:
            pts += [f"{x(h):.1f},{y(prev):.1f}", f"{x(h):.1f},{y(v):.1f}"]
            prev = v
        pts.append(f"{x(hours):.1f},{y(prev):.1f}")
        out.append(f'<polyline class="c{n % 10}" points="{" ".join(pts)}"><title>{escape(line.label)}: '
                   f'{line.total:,}</title></polyline>')
    out.append("</svg>")
    return "".join(out)


def legend(lines: Sequence[Line]) -> str:
    return '<ul class="legend">' + "".join(
        f'<li><span class="swatch c{n % 10}" aria-hidden="true"></span>{escape(line.short or line.label)} '
        f'{line.total:,}</li>'
        for n, line in enumerate(lines)) + "</ul>"


def table(lines: Sequence[Line], hours: float, caption: str) -> str:
    """The chart's figures as a table: each line's total after so many hours."""
    marks: list[float] = [m for m in MARKS if m < hours] + [round(hours, 1)]
    head = "".join(f"<th scope=\"col\">{m:g} h</th>" for m in marks)
    rows = "".join(f"<tr><th scope=\"row\">{escape(line.label)}</th>" +
                   "".join(f"<td>{line.at(m):,}</td>" for m in marks) + "</tr>" for line in lines)
    return (f"<table class=\"chart-table\"><caption>{escape(caption)}</caption><thead><tr><th scope=\"col\">"
            f"</th>{head}</tr></thead><tbody>{rows}</tbody></table>")


def figure(lines: Sequence[Line], window: float, title: str, ident: str, what: str) -> str:
    """A chart with its legend and, behind a disclosure, its table."""
    if not lines or not any(line.points for line in lines):
        return ""
    hours = span(lines, window)
    leader = max(lines, key=lambda line: line.total)
    description = (f"{what} over {hours:g} hours after the announcement. " +
                   "; ".join(f"{line.label}: {line.total:,} points" for line in lines) +
                   f". Most: {leader.label}.")
    return (f'<div class="attention-chart" id={quoteattr(ident)}><figure>{svg(lines, hours, title, description, ident)}'
            f"<figcaption>{legend(lines)}</figcaption></figure>"
            f"<details><summary>The chart as a table</summary>{table(lines, hours, title)}</details></div>")
