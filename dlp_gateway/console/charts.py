"""Small server-rendered SVG charts for the dashboard: no JavaScript, no front-end build."""

from __future__ import annotations

from html import escape

COLORS = {"held": "#d97706", "released": "#059669", "denied": "#dc2626", "expired": "#6b7280", "releasing": "#2563eb"}


def stacked_days(days: list[tuple[str, dict[str, int]]], width: int = 640, height: int = 180) -> str:
    """One stacked bar per day (held, released, denied …), with a legend."""
    top = max((sum(c.values()) for _, c in days), default=0) or 1
    bar = width / max(len(days), 1)
    parts = [f'<svg viewBox="0 0 {width} {height + 40}" role="img" aria-label="per day" class="chart">']
    for i, (day, counts) in enumerate(days):
        y = float(height)
        for status in ("held", "releasing", "released", "denied", "expired"):
            n = counts.get(status, 0)
            if not n:
                continue
            h = n / top * height
            y -= h
            parts.append(
                f'<rect x="{i * bar + 2:.1f}" y="{y:.1f}" width="{bar - 4:.1f}" height="{h:.1f}" '
                f'fill="{COLORS[status]}"><title>{escape(day)} {status}: {n}</title></rect>'
            )
        if len(days) <= 14 or i % 7 == 0:
            parts.append(
                f'<text x="{i * bar + bar / 2:.1f}" y="{height + 14}" font-size="10" '
                f'text-anchor="middle">{escape(day[5:])}</text>'
            )
    for j, (status, color) in enumerate(COLORS.items()):
        parts.append(
            f'<rect x="{j * 110}" y="{height + 24}" width="10" height="10" fill="{color}"/>'
            f'<text x="{j * 110 + 14}" y="{height + 33}" font-size="11">{status}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def bars(items: list[tuple[str, int]], width: int = 420) -> str:
    """Horizontal bars with their labels and counts (top rules, recipient insurers)."""
    top = max((n for _, n in items), default=0) or 1
    row = 22
    parts = [f'<svg viewBox="0 0 {width} {row * max(len(items), 1)}" role="img" class="chart">']
    for i, (label, n) in enumerate(items):
        w = n / top * (width - 200)
        parts.append(
            f'<text x="0" y="{i * row + 15}" font-size="12">{escape(label)}</text>'
            f'<rect x="160" y="{i * row + 4}" width="{w:.1f}" height="14" fill="#2563eb"/>'
            f'<text x="{164 + w:.1f}" y="{i * row + 15}" font-size="12">{n}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
