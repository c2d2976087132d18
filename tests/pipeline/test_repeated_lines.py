"""An outlet's repeated lines during a crawl: learned from new articles, applied as frozen rules."""

from __future__ import annotations

from pipeline.extraction.boilerplate import line_keys
from pipeline.repeated_lines import RepeatedLines

PROMO = "Sign up for our morning newsletter"


def page(number: int, *extra: str) -> str:
    return "\n".join(
        (f"Story {number} opens with facts of its own, number {number}.",
         f"Its second paragraph adds detail {number} found nowhere else.", *extra)
    )  # fmt: skip


def test_no_rule_until_enough_pages_were_learned_then_the_promo_goes() -> None:
    repeated = RepeatedLines({})
    for number in range(4):
        repeated.learn("A", line_keys(page(number, PROMO)))
    assert repeated.rule("A") is None
    repeated.learn("A", line_keys(page(4, PROMO)))
    rule = repeated.rule("A")
    assert rule is not None
    assert rule.filter(page(9, PROMO)) == page(9)
    assert repeated.rule("B") is None  # outlets learn apart


def test_a_rule_handed_out_never_changes_and_later_rules_follow_every_refresh_pages() -> None:
    stored = {"A": [line_keys(page(n, PROMO)) for n in range(20)]}
    repeated = RepeatedLines(stored, refresh=10)
    first = repeated.rule("A")
    assert first is not None
    assert first.is_boilerplate(PROMO)
    for number in range(100, 200):  # the promo leaves the outlet's pages
        repeated.learn("A", line_keys(page(number)))
    assert first.is_boilerplate(PROMO)  # frozen: still filters the page it was taken for
    assert repeated.rule("A") is None


def test_only_outlets_that_learned_are_saved_with_their_whole_window() -> None:
    stored = {"A": [line_keys(page(n, PROMO)) for n in range(3)], "B": [line_keys(page(1))]}
    repeated = RepeatedLines(stored)
    repeated.learn("A", line_keys(page(3, PROMO)))
    changed = repeated.changed()
    assert list(changed) == ["A"]
    assert len(changed["A"]) == 4


def test_a_full_window_of_long_pages_stays_small() -> None:
    """Windows of many outlets live in the crawler for a whole crawl: lines are kept as 64-bit
    hashes, not as text (100 pages of 60 long lines took about 1.5 MB as strings)."""
    import tracemalloc

    pages = [
        "\n".join(f"Paragraph {n} of page {p}: " + "a fairly long line of news prose " * 5
                  for n in range(60))
        for p in range(100)
    ]  # fmt: skip
    keys = [line_keys(page) for page in pages]
    tracemalloc.start()
    try:
        repeated = RepeatedLines({})
        for page_keys in keys:
            repeated.learn("A", page_keys)
        used, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert used < 100_000
