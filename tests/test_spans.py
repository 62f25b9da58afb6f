"""Cutting a source into segments at span boundaries: nothing lost, every span rebuilt exactly."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.model.spans import segments

TEXT = "The court issued warrants in late 2024."


@pytest.mark.parametrize(
    ("spans", "expected"),
    [
        ([], [("The court issued warrants in late 2024.", ())]),
        ([(4, 9)], [("The ", ()), ("court", ((4, 9),)), (" issued warrants in late 2024.", ())]),
        (  # nested: the inner span is listed first where both cover the text
            [(0, 9), (4, 9)],
            [("The ", ((0, 9),)), ("court", ((4, 9), (0, 9))), (" issued warrants in late 2024.", ())],
        ),
        (  # overlapping: the shared part lists both
            [(0, 9), (4, 16)],
            [
                ("The ", ((0, 9),)),
                ("court", ((0, 9), (4, 16))),
                (" issued", ((4, 16),)),
                (" warrants in late 2024.", ()),
            ],
        ),
        (  # adjacent spans touch without sharing a character
            [(0, 3), (3, 9)],
            [("The", ((0, 3),)), (" court", ((3, 9),)), (" issued warrants in late 2024.", ())],
        ),
        ([(4, 9), (4, 9)], [("The ", ()), ("court", ((4, 9),)), (" issued warrants in late 2024.", ())]),
        ([(5, 3), (30, 999), (-1, 2)], [("The court issued warrants in late 2024.", ())]),
    ],
    ids=["none", "one", "nested", "overlapping", "adjacent", "duplicate", "invalid-ignored"],
)
def test_segments_split_text_at_every_span_boundary(spans, expected):
    assert [(s.text, s.spans) for s in segments(TEXT, spans)] == expected


def test_segments_of_empty_text_are_none():
    assert segments("", [(0, 1)]) == []


span_lists = st.lists(st.tuples(st.integers(0, 60), st.integers(0, 60)), max_size=12)


@given(text=st.text(max_size=60), spans=span_lists)
def test_segments_rebuild_the_text_and_every_span(text, spans):
    result = segments(text, spans)
    assert "".join(s.text for s in result) == text
    assert all(a.end == b.start for a, b in zip(result, result[1:], strict=False))
    for span in {(s, e) for s, e in spans if 0 <= s < e <= len(text)}:
        covered = [s for s in result if span in s.spans]
        assert (covered[0].start, covered[-1].end) == span
        assert all(a.end == b.start for a, b in zip(covered, covered[1:], strict=False))
    for segment in result:
        lengths = [e - s for s, e in segment.spans]
        assert lengths == sorted(lengths)
        assert all(s <= segment.start and segment.end <= e for s, e in segment.spans)
