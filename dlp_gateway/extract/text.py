"""Message → Segments: the subject, then each readable part, line structure preserved."""

from __future__ import annotations

from dlp_gateway.extract.html import html_to_lines
from dlp_gateway.model import Message, Segment


def extract_segments(message: Message) -> tuple[Segment, ...]:
    segments = [Segment("header:Subject", (message.subject,), kind="header")]
    for part in message.parts:
        if part.text is None:
            continue
        if part.content_type == "text/html":
            lines = html_to_lines(part.text)
        else:
            lines = part.text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        segments.append(Segment(part.location, tuple(lines)))
    return tuple(segments)
