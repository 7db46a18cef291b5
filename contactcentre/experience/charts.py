"""Server-side SVG charts for the supervisor dashboard: no script, no CDN, printable.

Each chart is an ``<svg role="img">`` with a <title> and <desc> (the numbers in words); the
dashboard puts a table with the same numbers beside it for screen readers and spreadsheets.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import count

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

PALETTE = ("#005b8f", "#2e8540", "#c05b00", "#6a3d9a", "#b3261e", "#00838f", "#7a6a00", "#5a6470")
SCALE5 = ("#b3261e", "#e07b39", "#d9c84a", "#7fb77e", "#2e8540")
_ids = count(1)


def _fmt(value: float, unit: str) -> str:
    if unit == "%":
        return f"{value * 100:.0f} %"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    for step in (1, 2, 2.5, 5, 10):
        magnitude = 10 ** (len(str(int(value))) - 1)
        if step * magnitude >= value:
            return float(step * magnitude)
    return float(value)


def _frame(width: int, height: int, title: str, desc: str, body: str) -> SafeString:
    n = next(_ids)
    return mark_safe(  # noqa: S308 - every interpolated text goes through escape()
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-labelledby="ct{n} cd{n}" preserveAspectRatio="xMinYMin meet">'
        f'<title id="ct{n}">{escape(title)}</title><desc id="cd{n}">{escape(desc)}</desc>{body}</svg>'
    )


def hbar_chart(items: Sequence[tuple[str, float]], *, title: str, unit: str = "", max_value: float | None = None,
               color: str = PALETTE[0], width: int = 520) -> SafeString:
    """Horizontal bars, label on the left, value at the end of the bar."""
    row, label_w, pad = 26, 150, 8
    height = max(1, len(items)) * row + pad * 2
    top = max_value if max_value is not None else _nice_max(max((v for _, v in items), default=0))
    plot_w = width - label_w - 70
    parts = []
    for i, (label, value) in enumerate(items):
        y = pad + i * row
        w = 0 if not top else max(0.0, value) / top * plot_w
        short = label if len(label) <= 22 else label[:21] + "…"
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 17}" text-anchor="end" class="lbl">{escape(short)}</text>'
            f'<rect x="{label_w}" y="{y + 4}" width="{plot_w}" height="{row - 8}" class="track" rx="3"/>'
            f'<rect x="{label_w}" y="{y + 4}" width="{w:.1f}" height="{row - 8}" fill="{color}" rx="3"/>'
            f'<text x="{label_w + w + 6:.1f}" y="{y + 17}" class="val">{escape(_fmt(value, unit))}</text>'
        )
    desc = "; ".join(f"{label}: {_fmt(value, unit)}" for label, value in items) or "Inga data"
    return _frame(width, height, title, desc, "".join(parts))


def column_chart(items: Sequence[tuple[str, float]], *, title: str, unit: str = "", color: str = PALETTE[0],
                 width: int = 520, height: int = 200, every: int = 1) -> SafeString:
    """Vertical columns (e.g. contacts per hour), every ``every``-th label shown."""
    left, bottom, top_pad = 34, 24, 10
    plot_w, plot_h = width - left - 6, height - bottom - top_pad
    top = _nice_max(max((v for _, v in items), default=0))
    n = max(1, len(items))
    slot = plot_w / n
    parts = [_grid(left, top_pad, plot_w, plot_h, top, unit)]
    for i, (label, value) in enumerate(items):
        h = 0 if not top else value / top * plot_h
        x = left + i * slot
        parts.append(f'<rect x="{x + slot * 0.15:.1f}" y="{top_pad + plot_h - h:.1f}" width="{slot * 0.7:.1f}" '
                     f'height="{h:.1f}" fill="{color}" rx="2"><title>{escape(label)}: {escape(_fmt(value, unit))}</title></rect>')
        if i % every == 0:
            parts.append(f'<text x="{x + slot / 2:.1f}" y="{height - 8}" text-anchor="middle" class="tick">{escape(label)}</text>')
    desc = "; ".join(f"{label}: {_fmt(value, unit)}" for label, value in items) or "Inga data"
    return _frame(width, height, title, desc, "".join(parts))


def _grid(left: float, top: float, w: float, h: float, max_value: float, unit: str) -> str:
    lines = []
    for k in range(5):
        y = top + h - h * k / 4
        value = max_value * k / 4
        lines.append(f'<line x1="{left}" x2="{left + w}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
                     f'<text x="{left - 5}" y="{y + 4:.1f}" text-anchor="end" class="tick">{escape(_fmt(value, unit))}</text>')
    return "".join(lines)


def line_chart(labels: Sequence[str], series: Sequence[tuple[str, Sequence[float | None]]], *, title: str,
               unit: str = "", width: int = 520, height: int = 220, max_value: float | None = None) -> SafeString:
    """One line per series over the labels (weeks); gaps where a value is None."""
    left, bottom, top_pad, legend = 40, 24, 10, 22
    plot_w, plot_h = width - left - 10, height - bottom - top_pad - legend
    values = [v for _, vs in series for v in vs if v is not None]
    top = max_value if max_value is not None else _nice_max(max(values, default=0))
    n = max(1, len(labels) - 1)
    parts = [_grid(left, top_pad + legend, plot_w, plot_h, top, unit)]
    for i, label in enumerate(labels):
        if len(labels) <= 8 or i % 2 == 0:
            parts.append(f'<text x="{left + plot_w * i / n:.1f}" y="{height - 8}" text-anchor="middle" class="tick">'
                         f'{escape(label[-3:] if "-W" in label else label)}</text>')
    for s_i, (name, vs) in enumerate(series):
        color = PALETTE[s_i % len(PALETTE)]
        points = [(left + plot_w * i / n, top_pad + legend + plot_h - (v / top * plot_h if top else 0))
                  for i, v in enumerate(vs) if v is not None]
        if points:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            parts.append(f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2.5" stroke-linejoin="round"/>')
            parts.extend(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{color}"/>' for x, y in points)
        parts.append(f'<rect x="{left + s_i * 150}" y="2" width="12" height="12" fill="{color}" rx="2"/>'
                     f'<text x="{left + s_i * 150 + 17}" y="12" class="lbl">{escape(name)}</text>')
    desc = " ".join(
        f"{name}: " + ", ".join(f"{label} {_fmt(v, unit) if v is not None else '–'}" for label, v in zip(labels, vs, strict=False)) + "."
        for name, vs in series)
    return _frame(width, height, title, desc, "".join(parts))


def distribution_chart(rows: Sequence[tuple[str, dict[str, int]]], *, title: str, width: int = 520) -> SafeString:
    """One 100 % stacked bar per question: the share of each grade 1..5 (red to green)."""
    row, label_w, pad = 30, 120, 8
    height = len(rows) * row + pad * 2 + 22
    plot_w = width - label_w - 10
    parts = []
    for i, (label, dist) in enumerate(rows):
        y = pad + i * row
        total = sum(dist.values())
        x = float(label_w)
        parts.append(f'<text x="{label_w - 8}" y="{y + 19}" text-anchor="end" class="lbl">{escape(label)}</text>')
        if not total:
            parts.append(f'<rect x="{label_w}" y="{y + 4}" width="{plot_w}" height="{row - 8}" class="track" rx="3"/>')
        for k, (grade, n) in enumerate(sorted(dist.items())):
            w = n / total * plot_w if total else 0
            if w:
                parts.append(f'<rect x="{x:.1f}" y="{y + 4}" width="{w:.1f}" height="{row - 8}" fill="{SCALE5[k % 5]}">'
                             f'<title>{escape(label)} {grade}: {n}</title></rect>')
                if w > 26:
                    parts.append(f'<text x="{x + w / 2:.1f}" y="{y + 19}" text-anchor="middle" class="inbar">{n / total * 100:.0f}%</text>')
            x += w
    ly = pad + len(rows) * row + 8
    parts.extend(f'<rect x="{label_w + k * 62}" y="{ly}" width="12" height="12" fill="{SCALE5[k]}" rx="2"/>'
                 f'<text x="{label_w + k * 62 + 16}" y="{ly + 10}" class="tick">{k + 1}</text>' for k in range(5))
    desc = "; ".join(f"{label}: " + ", ".join(f"{g}: {n}" for g, n in sorted(dist.items())) for label, dist in rows)
    return _frame(width, height, title, desc or "Inga svar", "".join(parts))
