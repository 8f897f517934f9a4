"""HTML to visible text: what a reader sees on the page, one block per line.

Scripts, styles and other invisible elements are dropped; block elements become line breaks;
entities are decoded. Page <meta> fields that government sites fill in (ArticleTitle, PubDate,
ContentSource, ...) are kept aside for the metadata stage.

Scraped pages are untrusted input, so the markup is read by a small tokenizer whose work is
linear in the page size whatever the page holds: it never recurses (thousands of nested tags
are a counter, not a stack) and never rescans (an unterminated comment, tag or quote ends at the
next `<` or at the end of the page). The stdlib `html.parser` is not used because some inputs make
it quadratic: 50,000 unterminated `<!--` (200 KB) keep it busy for half a minute.
"""

from __future__ import annotations

import re
from html import unescape

INVISIBLE = {"script", "style", "noscript", "template", "head", "svg", "math", "iframe", "object", "select", "button"}
BLOCK = {
    "p", "div", "br", "li", "ul", "ol", "tr", "table", "h1", "h2", "h3", "h4", "h5", "h6",
    "section", "article", "header", "footer", "nav", "aside", "blockquote", "pre", "hr",
    "dd", "dt", "dl", "form", "fieldset", "figure", "figcaption", "main", "title", "address",
}
CELL = {"td", "th"}
RAW_TEXT = {"script", "style"}  # their content is not markup: it ends only at the matching end tag
CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-]+)""", re.I)

# One token per match. Every repetition is possessive and none crosses a "<", so a token that
# fails costs at most the distance to the next "<": the scan is linear in the page size.
TOKEN = re.compile(
    r"<!--"
    r"|<(?P<end>/)?(?P<tag>[A-Za-z][^\s/>\x00<]*+)(?P<attrs>(?:\"[^\"<]*+\"|'[^'<]*+'|[^<>\"'])*+)>"
    r"|<[!?][^<>]*+>"
)
ATTR = re.compile(r"""([^\s=/>"']+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?""")
BLANKS = re.compile(r"[ \t\r\f\v\u00a0\u3000]+")


def _attrs(text: str) -> dict[str, str]:
    return {m.group(1).lower(): unescape(m.group(2) or m.group(3) or m.group(4) or "") for m in ATTR.finditer(text)}


def declared_charset(data: bytes) -> str | None:
    m = CHARSET.search(data[:4096])
    return m.group(1).decode("ascii").lower() if m else None


def visible_text(html: str) -> tuple[str, dict[str, str]]:
    """Return (visible text with one block per line, page meta fields incl. 'title')."""
    parts: list[str] = []
    title: list[str] = []
    meta: dict[str, str] = {}
    hidden = 0
    in_head = in_title = False
    cells_in_row = 0
    pos, n = 0, len(html)

    def data(chunk: str) -> None:
        if not chunk:
            return
        chunk = unescape(chunk)
        if in_title:
            title.append(chunk)
        if not hidden:
            parts.append(chunk)

    while pos < n:
        m = TOKEN.search(html, pos)
        if m is None:
            data(html[pos:])
            break
        data(html[pos : m.start()])
        pos = m.end()
        token = m.group(0)
        if token == "<!--":  # a comment; unterminated, it runs to the end of the page
            close = html.find("-->", pos)
            pos = n if close < 0 else close + 3
            continue
        tag = (m.group("tag") or "").lower()
        if not tag:  # <!DOCTYPE ...>, <![CDATA[ ... ]]>, <?xml ...?>
            continue
        if m.group("end"):
            if tag == "title":
                in_title = False
            if tag in INVISIBLE:
                hidden = max(0, hidden - 1)
                in_head = in_head and tag != "head"
            elif tag in BLOCK:
                parts.append("\n")
            continue
        attrs = m.group("attrs")
        if tag == "meta":
            a = _attrs(attrs)
            key = a.get("name") or a.get("property") or a.get("http-equiv")
            if key and a.get("content"):
                meta[key.lower()] = a["content"].strip()
            continue
        if tag in RAW_TEXT:
            close = re.compile(rf"</{tag}(?=[\s/>])[^<>]*+>?", re.I).search(html, pos)
            pos = n if close is None else close.end()
            continue
        self_closing = attrs.rstrip().endswith("/")
        if self_closing:
            if tag in BLOCK:
                parts.append("\n")
            continue
        if tag == "body" and in_head:  # a page that never closes <head>: the body is visible
            hidden, in_head = max(0, hidden - 1), False
        if tag == "title":
            in_title = True
        if tag in INVISIBLE:
            hidden += 1
            in_head = in_head or tag == "head"
        elif tag in BLOCK:
            parts.append("\n")
            cells_in_row = 0
        elif tag in CELL:
            # a table row is one line, its cells split by " | ": the extract stage reads such
            # lines as a table (envcompare.extraction.tables), never as prose run together
            parts.append(" | " if cells_in_row else " ")
            cells_in_row += 1

    text = "".join(parts)
    lines = [BLANKS.sub(" ", line).strip() for line in text.split("\n")]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    title_text = "".join(title).strip()
    if title_text:
        meta.setdefault("title", title_text)
    return "\n".join(out).strip("\n"), meta
