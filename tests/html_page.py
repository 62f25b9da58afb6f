"""A small reading of an HTML page for tests: its elements' attributes and the text of one element."""

from html.parser import HTMLParser

VOID = {"meta", "link", "img", "br", "hr", "input"}


class Page(HTMLParser):
    """Every start tag with its attributes, and the text inside the first element of class text_of_class."""

    def __init__(self, html: str, text_of_class: str = "source-text"):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict]] = []
        self.inline_scripts: list[str] = []
        self.text_of_class, self.depth, self.text = text_of_class, 0, []
        self._in_script = False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.elements.append((tag, attrs))
        self._in_script = tag == "script" and "src" not in attrs
        if self.depth and tag not in VOID:
            self.depth += 1
        elif self.text_of_class in (attrs.get("class") or "").split():
            self.depth = 1

    def handle_endtag(self, tag):
        self._in_script = False
        if self.depth:
            self.depth -= 1

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.inline_scripts.append(data)
        if self.depth:
            self.text.append(data)

    def all(self, tag: str, **attrs) -> list[dict]:
        return [a for t, a in self.elements if t == tag and all(a.get(k) == v for k, v in attrs.items())]

    def ids(self) -> set[str]:
        return {a["id"] for _, a in self.elements if "id" in a}

    def with_class(self, name: str) -> list[dict]:
        return [a for _, a in self.elements if name in (a.get("class") or "").split()]
