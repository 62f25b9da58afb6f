"""Cut a text into segments at every span boundary, so overlapping and nested spans can all be shown."""

from dataclasses import dataclass

Span = tuple[int, int]


@dataclass(frozen=True)
class Segment:
    """A run of text covered by the same spans, innermost (shortest) first; no spans means plain text."""

    start: int
    end: int
    text: str
    spans: tuple[Span, ...]

    @property
    def innermost(self) -> Span | None:
        return self.spans[0] if self.spans else None


def segments(text: str, spans: list[Span]) -> list[Segment]:
    """The text as consecutive segments; each span is exactly the union of the segments that list it."""
    spans = sorted({(s, e) for s, e in spans if 0 <= s < e <= len(text)})
    cuts = sorted({0, len(text), *(s for s, _ in spans), *(e for _, e in spans)})
    result, active, opened = [], set(), 0
    for start, end in zip(cuts, cuts[1:], strict=False):
        # A sweep over the cuts: open the spans starting here, drop those that ended.
        while opened < len(spans) and spans[opened][0] == start:
            active.add(spans[opened])
            opened += 1
        active = {span for span in active if span[1] > start}
        covering = tuple(sorted(active, key=lambda span: (span[1] - span[0], span)))
        result.append(Segment(start, end, text[start:end], covering))
    return result
