"""The report's weekly trend as an SVG drawn on the server (pure: no chart library, no CDN).

Bars are the emails sent each ISO week; the darker bar inside is the replies to them; the rate
is written above. Every text in the drawing is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

from engine.service.report import Funnel

WIDTH, HEIGHT = 720, 220
TOP, BOTTOM, LEFT = 24, 36, 40


def weekly_chart(weekly: Sequence[tuple[str, Funnel]]) -> Markup:
    """An `<svg>` of sent and replied per week (empty text when there are no weeks)."""
    if not weekly:
        return Markup("")
    peak = max(1, *(funnel.sent for _, funnel in weekly))
    plot = HEIGHT - TOP - BOTTOM
    slot = (WIDTH - LEFT) / len(weekly)
    bar = max(4.0, slot * 0.6)
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" '
        f'height="{HEIGHT}" xmlns="http://www.w3.org/2000/svg">',
        "<title>Emails sent and replies, by week</title>",
        f'<line x1="{LEFT}" y1="{TOP + plot}" x2="{WIDTH}" y2="{TOP + plot}" stroke="#9aa5b1"/>',
        f'<text x="{LEFT - 6}" y="{TOP + 4}" text-anchor="end">{peak}</text>',
        f'<text x="{LEFT - 6}" y="{TOP + plot}" text-anchor="end">0</text>',
    ]
    for index, (week, funnel) in enumerate(weekly):
        x = LEFT + index * slot + (slot - bar) / 2
        sent_height = plot * funnel.sent / peak
        replied_height = plot * funnel.replied / peak
        rate = funnel.replied_rate
        parts += [
            f'<rect x="{x:.1f}" y="{TOP + plot - sent_height:.1f}" width="{bar:.1f}" '
            f'height="{sent_height:.1f}" fill="#c9dbf5"><title>{escape(week)}: '
            f"{funnel.sent} sent, {funnel.replied} replied</title></rect>",
            f'<rect x="{x:.1f}" y="{TOP + plot - replied_height:.1f}" width="{bar:.1f}" '
            f'height="{replied_height:.1f}" fill="#1f5fbf"/>',
            f'<text x="{x + bar / 2:.1f}" y="{TOP + plot + 14}" text-anchor="middle">'
            f"{escape(week[-3:])}</text>",
        ]
        if rate is not None:
            parts.append(
                f'<text x="{x + bar / 2:.1f}" y="{TOP + plot - sent_height - 4:.1f}" '
                f'text-anchor="middle">{rate:.0%}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))
