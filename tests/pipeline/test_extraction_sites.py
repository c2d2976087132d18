"""Tests for per-outlet ``SiteRules``: building them from config, and extraction that uses them."""

from __future__ import annotations

import pytest

from pipeline.extraction import SiteRules, extract_article

BODY = (
    "The harbour authority approved the new ferry timetable on Monday after a long public "
    "consultation. Crossings will run every half hour from April, and the night service "
    "returns on Fridays and Saturdays for the first time since the pandemic."
)
SECOND = (
    "Operators said the extra crossings need two more crews, which they expect to hire before "
    "the summer season, and the union said it would watch the rotas closely."
)


def outlet_page() -> bytes:
    return (
        "<!DOCTYPE html><html lang='en'><head><title>Ferries | Coast News</title></head><body>"
        "<header><nav><a href='/'>Home</a> <a href='/local'>Local</a></nav></header>"
        "<h1 class='headline'>Ferries every half hour from April</h1>"
        "<div class='story'><p>" + BODY + "</p>"
        "<div class='related'><p>Related: Ferry fares rise again this year, says the "
        "operator in a short statement to the press</p></div>"
        "<p>" + SECOND + "</p></div>"
        "<div class='comments'><p>Great news for the island, finally! We waited years "
        "for this and I hope it lasts longer than the last timetable did.</p></div>"
        "</body></html>"
    ).encode()


def test_builds_rules_from_strings_and_lists() -> None:
    rules = SiteRules.from_mapping({"body": "div.story", "title": "h1", "drop": [".related"]})
    assert rules == SiteRules(body=("div.story",), title=("h1",), drop=(".related",))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"bodies": "div"}, "unknown extract key"),
        ({"body": 3}, "extract.body must be"),
        ({"drop": ["div", None]}, "extract.drop must be"),
        ({"title": "h1[["}, "extract.title: invalid selector"),
        ({"body": "//div[@class="}, "extract.body: invalid selector"),
        ({"title": "h1::text"}, "extract.title: invalid selector 'h1::text': Pseudo-elements"),
    ],
)
def test_rejects_bad_rules(data: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SiteRules.from_mapping(data)


def test_body_and_title_selectors_override_generic_extraction() -> None:
    rules = SiteRules.from_mapping(
        {"body": "div.story", "title": "h1.headline", "drop": [".related"]}
    )
    article = extract_article(outlet_page(), url="https://coast.example/a", rules=rules)
    assert article.title == "Ferries every half hour from April"
    assert article.text == f"{BODY}\n{SECOND}"


def test_xpath_selectors_work_too() -> None:
    rules = SiteRules.from_mapping(
        {"body": "//div[@class='story']", "drop": "//*[@class='related']"}
    )
    article = extract_article(outlet_page(), url="https://coast.example/a", rules=rules)
    assert article.text == f"{BODY}\n{SECOND}"


def test_a_title_can_be_an_attribute_an_xpath_selects() -> None:
    """As the README's example: the headline from ``og:title`` when the page has one."""
    page = outlet_page().replace(
        b"<title>", b"<meta property='og:title' content=' Ferries,  every 30 minutes '><title>"
    )
    rules = SiteRules.from_mapping(
        {"title": ['//meta[@property="og:title"]/@content', "h1.headline"], "drop": "//a/@href"}
    )
    article = extract_article(page, url="https://coast.example/a", rules=rules)
    assert article.title == "Ferries, every 30 minutes"
    without = extract_article(outlet_page(), url="https://coast.example/a", rules=rules)
    assert without.title == "Ferries every half hour from April"


def test_drop_selectors_apply_to_generic_extraction() -> None:
    rules = SiteRules.from_mapping({"drop": [".comments", ".related"]})
    article = extract_article(outlet_page(), url="https://coast.example/a", rules=rules)
    assert "Related" not in article.text
    assert "Great news" not in article.text
    assert BODY in article.text


def test_body_selector_matching_nothing_falls_back_to_generic() -> None:
    rules = SiteRules.from_mapping({"body": "article.main-story"})
    article = extract_article(outlet_page(), url="https://coast.example/a", rules=rules)
    assert BODY in article.text
