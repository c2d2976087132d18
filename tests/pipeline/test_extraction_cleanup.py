"""Tests for the line clean-up rules and the second opinions of ``pipeline.extraction``."""

from __future__ import annotations

import pytest
from trafilatura.utils import load_html

from pipeline.extraction import extract_article, generic
from pipeline.extraction.agreement import coverage, shingle_set
from pipeline.extraction.cleanup import (
    drop_duplicate_lines,
    drop_pointer_lines,
    drop_title_lines,
    trim_edges,
)
from pipeline.extraction.second_opinion import jsonld_body, readability_text

PARAGRAPHS = [
    "The city council voted on Tuesday to extend the night bus service to the northern "
    "districts, after residents collected more than four thousand signatures.",
    "The new routes start in March and will run every twenty minutes until two in the "
    "morning, with a stop at the hospital and one at the university campus.",
    "Drivers' unions welcomed the plan but asked for more staff at the depots, saying that the "
    "current rotas already stretch crews thin on weekends and during school holidays.",
    "A review of the service is planned after six months, when the council will publish "
    "ridership figures for each route and decide whether to keep the late departures.",
]


def test_drops_repeated_long_lines_only() -> None:
    text = "Long line that is repeated in full, word for word, twice.\nOK.\nOK."
    repeated = text + "\nLong line that is repeated in full — word for word, twice!"
    assert drop_duplicate_lines(repeated) == text


@pytest.mark.parametrize(
    "first",
    ["Night buses reach the north", "Night Buses Reach The North!", "NIGHT BUSES REACH THE NORTH"],
)
def test_drops_headline_line(first: str) -> None:
    titles = ["Night buses reach the north | Harbor Gazette", "Night buses reach the north"]
    assert drop_title_lines(f"{first}\nBody text.", titles) == "Body text."


def test_keeps_line_that_only_starts_like_the_headline() -> None:
    text = "Night buses are a lifeline for shift workers across the whole city, they say.\nMore."
    assert drop_title_lines(text, ["Night buses"]) == text


def test_drops_pointers_to_other_articles() -> None:
    text = "Body.\nRelated: Fares rise again\nRead more: Council budget\nMore body."
    assert drop_pointer_lines(text) == "Body.\nMore body."


def test_trims_labels_and_promotions_at_the_edges() -> None:
    promo = "Sign up for our newsletter to get the news first"
    text = "\n".join(
        ["Photos", PARAGRAPHS[0], "- a short list item", PARAGRAPHS[1], "Comments", promo]
    )
    assert trim_edges(text) == "\n".join([PARAGRAPHS[0], "- a short list item", PARAGRAPHS[1]])


def test_keeps_a_text_of_short_lines() -> None:
    assert trim_edges("Results\nMenu") == "Results"


def test_coverage_counts_shared_shingles() -> None:
    text = "\n".join(PARAGRAPHS)
    assert coverage(PARAGRAPHS[0], shingle_set(text)) == 1.0
    assert coverage(text, shingle_set(PARAGRAPHS[0])) == pytest.approx(0.25, abs=0.05)
    assert coverage("", shingle_set(text)) == 0.0


def split_article_page() -> bytes:
    """An article split over two containers with a caption and a promo box between them."""
    first = "".join(f"<p>{p}</p>" for p in PARAGRAPHS[:2])
    second = "".join(f"<p>{p}</p>" for p in PARAGRAPHS[2:])
    return (
        "<!DOCTYPE html><html><head><title>Night buses</title></head><body>"
        f"<article><div class='body-part'>{first}</div>"
        "<figure><img src='bus.jpg'><figcaption>A night bus at the depot on Monday, "
        "waiting for the drivers of the late shift.</figcaption></figure>"
        f"<div class='body-part'>{second}</div></article></body></html>"
    ).encode()


def test_readability_drops_captions() -> None:
    text = readability_text(load_html(split_article_page()))
    assert text == "\n".join(PARAGRAPHS)


def test_prefers_second_opinion_that_contains_trafilatura_text(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # trafilatura stopped after the first container
    first_part = "\n".join(PARAGRAPHS[:2])
    monkeypatch.setattr(generic, "_trafilatura_text", lambda tree, url, options: first_part)
    article = extract_article(split_article_page(), url="https://news.example/a")
    assert article.text == "\n".join(PARAGRAPHS)


def test_ignores_longer_second_opinion_about_something_else(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first_part = "\n".join(PARAGRAPHS[:2])
    monkeypatch.setattr(generic, "_trafilatura_text", lambda tree, url, options: first_part)
    other = "\n".join(f"Another story about the harbour, paragraph {i}, " * 3 for i in range(9))
    monkeypatch.setattr(generic, "readability_text", lambda tree: other)
    article = extract_article(split_article_page(), url="https://news.example/a")
    assert article.text == first_part


def test_json_ld_teaser_is_not_a_second_opinion() -> None:
    page = (
        '<html><head><script type="application/ld+json">'
        '{"@type": "NewsArticle", "articleBody": "The city council voted on Tuesday…"}'
        "</script></head><body><p>The city council voted on Tuesday.</p></body></html>"
    )
    tree = load_html(page)
    assert jsonld_body(tree, [{"articleBody": "The city council voted on Tuesday…"}]) == ""


def test_runs_full_trafilatura_when_fast_pass_returns_the_menus(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    labels = [f"Section number {i}" for i in range(40)]
    menu_links = "".join(f"<li><a href='/s/{i}'>{label}</a></li>" for i, label in enumerate(labels))
    body = "".join(f"<div>{p}</div>" for p in PARAGRAPHS)
    page = f"<html><body><ul>{menu_links}</ul>{body}</body></html>".encode()
    article = "\n".join(PARAGRAPHS)

    def trafilatura_text(tree: object, url: object, options: object) -> str:
        return "\n".join(labels) if options is generic.FAST_OPTIONS else article

    monkeypatch.setattr(generic, "_trafilatura_text", trafilatura_text)
    assert extract_article(page, url="https://news.example/a").text == article
