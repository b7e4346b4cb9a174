"""Server-rendered SVG: a session's risk over time. No script and no CDN, so the page works offline.

The chart draws the low/medium/high bands (0.3 and 0.7), the exam's alert threshold as a dashed
line, the risk after each scored event as a step line, and a marker for each alert.
"""

from __future__ import annotations

from datetime import datetime

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 16, 36
BANDS = (("low", 0.0, 0.3, "#e7f5ec"), ("medium", 0.3, 0.7, "#fff4d6"), ("high", 0.7, 1.0, "#fde4e1"))


def _minutes(seconds: float) -> str:
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 120:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min"


def risk_chart_svg(
    series: list[tuple[datetime, float]],
    *,
    threshold: float | None = None,
    alerts: list[tuple[datetime, float]] = (),
    end: datetime | None = None,
) -> SafeString:
    """An accessible SVG line chart of risk (0..1) against time since the first point."""
    start = series[0][0]
    last = max([at for at, _ in series] + [at for at, _ in alerts] + ([end] if end else []))
    span = max((last - start).total_seconds(), 1.0)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(at: datetime) -> float:
        return LEFT + plot_w * max(0.0, (at - start).total_seconds()) / span

    def y(risk: float) -> float:
        return TOP + plot_h * (1 - min(max(risk, 0.0), 1.0))

    parts = []
    for name, low, high, colour in BANDS:
        parts.append(
            f'<rect class="band band-{name}" x="{LEFT}" y="{y(high):.1f}" width="{plot_w}" '
            f'height="{y(low) - y(high):.1f}" fill="{colour}"/>'
            f'<text x="{WIDTH - RIGHT - 4}" y="{y(high) + 13:.1f}" text-anchor="end" class="band-label">{name}</text>'
        )
    for tick in (0.0, 0.3, 0.7, 1.0):
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" class="grid"/>'
            f'<text x="{LEFT - 6}" y="{y(tick) + 4:.1f}" text-anchor="end" class="tick">{tick:.1f}</text>'
        )
    for fraction in (0.0, 0.25, 0.5, 0.75, 1.0):
        px = LEFT + plot_w * fraction
        parts.append(
            f'<text x="{px:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle" class="tick">'
            f"{_minutes(span * fraction)}</text>"
        )
    parts.append(
        f'<text x="{LEFT + plot_w / 2:.1f}" y="{HEIGHT - 4}" text-anchor="middle" class="axis-label">'
        "time since the session started</text>"
    )
    if threshold is not None:
        level = y(threshold)
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{level:.1f}" y2="{level:.1f}" class="threshold"/>'
            f'<text x="{LEFT + 4}" y="{level - 4:.1f}" class="threshold-label">alert threshold {threshold:.2f}</text>'
        )
    # A step line: the risk holds its value until the next event changes it.
    points = []
    previous = None
    for at, risk in series:
        if previous is not None:
            points.append(f"{x(at):.1f},{y(previous):.1f}")
        points.append(f"{x(at):.1f},{y(risk):.1f}")
        previous = risk
    if end is not None and previous is not None and end > series[-1][0]:
        points.append(f"{x(end):.1f},{y(previous):.1f}")
    parts.append(f'<polyline class="risk-line" points="{" ".join(points)}"/>')
    for at, risk in alerts:
        parts.append(
            f'<circle class="alert-marker" cx="{x(at):.1f}" cy="{y(risk):.1f}" r="5">'
            f"<title>alert at risk {risk:.2f}</title></circle>"
        )

    peak_at, peak = max(series, key=lambda point: point[1])
    summary = (
        f"Risk over {_minutes(span)}: now {series[-1][1]:.2f}, peak {peak:.2f} "
        f"after {_minutes((peak_at - start).total_seconds())}, {len(series) - 1} scored events, "
        f"{len(alerts)} alert{'s' if len(alerts) != 1 else ''}."
    )
    svg = (
        f'<svg class="risk-chart" role="img" aria-labelledby="risk-chart-title risk-chart-desc" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" preserveAspectRatio="xMidYMid meet" '
        f'xmlns="http://www.w3.org/2000/svg">'
        f'<title id="risk-chart-title">Risk score over the session</title>'
        f'<desc id="risk-chart-desc">{escape(summary)}</desc>'
        f"{''.join(parts)}</svg>"
    )
    # Every interpolated value above is a number or a fixed word except the escaped summary.
    return mark_safe(svg)  # noqa: S308
