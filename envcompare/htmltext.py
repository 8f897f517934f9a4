"""HTML to visible text: what a reader sees on the page, one block per line.

Scripts, styles and other invisible elements are dropped; block elements become line breaks;
entities are decoded. Page <meta> fields that government sites fill in (ArticleTitle, PubDate,
ContentSource, ...) are kept aside for the metadata stage. The stdlib parser is used because it
never raises on broken markup and keeps no recursion depth on deeply nested tags.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

INVISIBLE = {"script", "style", "noscript", "template", "head", "svg", "math", "iframe", "object", "select", "button"}
BLOCK = {
    "p", "div", "br", "li", "ul", "ol", "tr", "table", "h1", "h2", "h3", "h4", "h5", "h6",
    "section", "article", "header", "footer", "nav", "aside", "blockquote", "pre", "hr",
    "dd", "dt", "dl", "form", "fieldset", "figure", "figcaption", "main", "title", "address",
}
CELL = {"td", "th"}
CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-]+)""", re.I)


class _VisibleText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0
        self.meta: dict[str, str] = {}
        self.title: list[str] = []
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "meta":
            a = {k.lower(): (v or "") for k, v in attrs}
            key = a.get("name") or a.get("property") or a.get("http-equiv")
            if key and a.get("content"):
                self.meta[key.lower()] = a["content"].strip()
            return
        if tag == "title":
            self._in_title = True
        if tag in INVISIBLE:
            self.hidden += 1
        elif tag in BLOCK:
            self.parts.append("\n")
        elif tag in CELL:
            self.parts.append(" ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in BLOCK:
            self.parts.append("\n")
        elif tag == "meta":
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        if tag in INVISIBLE:
            self.hidden = max(0, self.hidden - 1)
        elif tag in BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title.append(data)
        if not self.hidden:
            self.parts.append(data)


def declared_charset(data: bytes) -> str | None:
    m = CHARSET.search(data[:4096])
    return m.group(1).decode("ascii").lower() if m else None


def visible_text(html: str) -> tuple[str, dict[str, str]]:
    """Return (visible text with one block per line, page meta fields incl. 'title')."""
    parser = _VisibleText()
    parser.feed(html)
    parser.close()
    text = "".join(parser.parts)
    lines = [re.sub(r"[ \t\r\f\v\u00a0\u3000]+", " ", line).strip() for line in text.split("\n")]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    meta = dict(parser.meta)
    title = "".join(parser.title).strip()
    if title:
        meta.setdefault("title", title)
    return "\n".join(out).strip("\n"), meta
