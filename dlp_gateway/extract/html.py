"""HTML → lines of text, with each table row kept on one line (cells separated by tabs)."""

from __future__ import annotations

from html.parser import HTMLParser

_BREAKS = {"br", "p", "div", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "blockquote"}
_SKIP = {"script", "style"}  # code, not text: a mail program runs no script and shows no CSS
# Attributes a mail program shows: tooltips, image alternatives, form values and placeholders.
_SHOWN_ATTRIBUTES = ("title", "alt", "value", "placeholder", "aria-label")


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skip += 1
            return
        shown = [v for k, v in attrs if k in _SHOWN_ATTRIBUTES and v and v.strip()]
        if shown and not self.skip:
            # inline, where the image or the tooltip is: a table row stays one line
            self.out.append(" " + " ".join(" ".join(v.split()) for v in shown) + " ")
        if tag in _BREAKS or tag == "title":
            self.out.append("\n")
        elif tag in ("td", "th"):
            self.out.append("\t")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skip = max(0, self.skip - 1)
        elif tag in _BREAKS or tag == "title":
            self.out.append("\n")

    def handle_comment(self, data: str) -> None:
        # Comments are one "view source" away, and hidden lists have been found in them: each
        # is read on lines of its own (never joined to the table row it sits in). Outlook's
        # conditional comments hold markup; their tags are dropped and their text kept.
        if not self.skip and data.strip():
            text = _Text()
            text.feed(data)
            text.close()
            self.out.append("\n" + "".join(text.out).strip() + "\n")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.out.append(data.replace("\r", " ").replace("\n", " "))


def html_to_lines(html: str) -> list[str]:
    parser = _Text()
    parser.feed(html)
    parser.close()
    lines = "".join(parser.out).split("\n")
    return [" ".join(line.replace("\xa0", " ").split(" ")).strip("\t ") for line in lines]
