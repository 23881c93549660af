"""HTML → lines of text, with each table row kept on one line (cells separated by tabs)."""

from __future__ import annotations

from html.parser import HTMLParser

_BREAKS = {"br", "p", "div", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "blockquote"}
_SKIP = {"script", "style", "head", "title"}


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skip += 1
        elif tag in _BREAKS:
            self.out.append("\n")
        elif tag in ("td", "th"):
            self.out.append("\t")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skip = max(0, self.skip - 1)
        elif tag in _BREAKS:
            self.out.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.out.append(data.replace("\r", " ").replace("\n", " "))


def html_to_lines(html: str) -> list[str]:
    parser = _Text()
    parser.feed(html)
    parser.close()
    lines = "".join(parser.out).split("\n")
    return [" ".join(line.replace("\xa0", " ").split(" ")).strip("\t ") for line in lines]
