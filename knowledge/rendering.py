"""Article bodies are Markdown: sanitised HTML for the public pages, plain text for answers that
go out through a channel (e-mail, chat, the status page show text, never markup)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import markdown
import nh3

_ALLOWED_TAGS = {"p", "h2", "h3", "h4", "ul", "ol", "li", "strong", "em", "a", "br", "blockquote", "code",
                 "table", "thead", "tbody", "tr", "th", "td"}
_BLOCKS = {"p", "h1", "h2", "h3", "h4", "ul", "ol", "blockquote", "table", "tr"}


def render_markdown(text: str) -> str:
    """Markdown to HTML, then sanitised: article bodies are edited by staff but shown to anyone."""
    html = markdown.markdown(text, extensions=["tables", "sane_lists"])
    return nh3.clean(html, tags=_ALLOWED_TAGS, attributes={"a": {"href", "title"}}, link_rel="noopener noreferrer")


class _TextWriter(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self._href: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "li":
            self.out.append("\n• ")
        elif tag == "br":
            self.out.append("\n")
        elif tag == "a":
            self._href = dict(attrs).get("href")

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href:
            self.out.append(f" ({self._href})")
            self._href = None
        elif tag in _BLOCKS:
            self.out.append("\n\n")
        elif tag in ("td", "th"):
            self.out.append("  ")

    def handle_data(self, data: str) -> None:
        self.out.append(data.replace("\n", " "))


def markdown_to_text(text: str) -> str:
    writer = _TextWriter()
    writer.feed(render_markdown(text))
    joined = "".join(writer.out)
    joined = re.sub(r"[ \t]*\n[ \t]*", "\n", joined)
    return re.sub(r"\n{3,}", "\n\n", joined).strip()
