"""Tests for ``BoilerplateLines``: the per-outlet filter of lines that repeat across pages."""

from __future__ import annotations

import pytest

from pipeline.extraction import BoilerplateLines

PROMO = "Sign up for our morning newsletter"
QUOTE = "“We will not stop until every family has a safe home,” the mayor told reporters."


def story(number: int, *extra: str) -> str:
    body = (
        f"Story {number} opens with facts that belong to this article alone, number {number}.",
        f"Its second paragraph adds detail {number} that no other page repeats word for word.",
    )
    return "\n".join((*body, *extra))


def learned(lines: BoilerplateLines, pages: int, *extra: str) -> BoilerplateLines:
    for number in range(pages):
        lines.learn(story(number, *extra))
    return lines


def test_removes_line_seen_on_enough_recent_pages() -> None:
    lines = learned(BoilerplateLines(min_pages=5), 5, PROMO)
    assert lines.filter(story(99, PROMO)) == story(99)


def test_keeps_everything_until_enough_pages_were_seen() -> None:
    lines = learned(BoilerplateLines(min_pages=5), 4, PROMO)
    assert lines.filter(story(99, PROMO)) == story(99, PROMO)


def test_matches_lines_whatever_their_case_and_punctuation() -> None:
    lines = learned(BoilerplateLines(min_pages=5), 5, "READ MORE »")
    assert lines.is_boilerplate("Read more")


def test_repeated_quote_survives_until_it_is_on_a_large_share_of_pages() -> None:
    lines = BoilerplateLines(window=50, min_pages=3, prose_share=0.3)
    for number in range(40):
        lines.learn(story(number, QUOTE) if number < 6 else story(number))
    assert not lines.is_boilerplate(QUOTE)  # 6 of 40 pages: a running story, not boilerplate
    for number in range(40, 50):
        lines.learn(story(number, QUOTE))
    assert lines.is_boilerplate(QUOTE)  # 16 of 50 pages


def test_forgets_pages_that_left_the_window() -> None:
    lines = learned(BoilerplateLines(window=10, min_pages=5), 5, PROMO)
    assert lines.is_boilerplate(PROMO)
    for number in range(100, 110):
        lines.learn(story(number))
    assert lines.pages_seen == 10
    assert not lines.is_boilerplate(PROMO)


def test_leaves_text_whole_when_most_of_it_would_go() -> None:
    lines = learned(BoilerplateLines(min_pages=5), 5, PROMO, "Share this story", "Comments")
    short_page = f"{PROMO}\nShare this story\nComments\nOne new line only."
    assert lines.filter(short_page) == short_page


def test_rejects_meaningless_settings() -> None:
    with pytest.raises(ValueError, match="min_pages"):
        BoilerplateLines(min_pages=1)


def test_learning_and_filtering_in_one_pass_agree_with_doing_each_alone() -> None:
    from pipeline.extraction.boilerplate import learn_and_filter, line_keys

    lines = learned(BoilerplateLines(min_pages=5), 5, PROMO, "READ MORE »")
    text = story(99, PROMO, QUOTE, "Read more")
    rule = lines.rule()
    assert learn_and_filter(text, rule) == (rule.filter(text), line_keys(text))
    assert learn_and_filter(text, None) == (text, line_keys(text))
    assert rule.filter(text) == story(99, QUOTE)
