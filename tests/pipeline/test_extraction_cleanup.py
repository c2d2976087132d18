"""Tests for the line clean-up rules and the second opinions of ``pipeline.extraction``."""

from __future__ import annotations

import pytest
from trafilatura.utils import load_html

from pipeline.extraction import extract_article, generic
from pipeline.extraction.agreement import coverage, shingle_set, trim_unconfirmed_tail
from pipeline.extraction.cleanup import (
    drop_ad_lines,
    drop_consent_lines,
    drop_counter_lines,
    drop_duplicate_lines,
    drop_link_tail,
    drop_pointer_lines,
    drop_signup_lines,
    drop_title_lines,
    normalized,
    trim_edges,
)
from pipeline.extraction.second_opinion import jsonld_body, readability_text
from pipeline.words import has_words

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


def test_drops_second_copy_of_a_block() -> None:
    block = [*PARAGRAPHS[:3], "OK."]
    text = "\n".join([*block, PARAGRAPHS[3]])
    assert drop_duplicate_lines(text + "\n" + "\n".join(block)) == text


def test_keeps_single_repeated_lines() -> None:
    # a plan or a schedule repeats lines on purpose; so does a pull quote
    step = "Drink within thirty minutes after your workout, then rest for an hour."
    text = "\n".join(["Plan A", step, PARAGRAPHS[0], "Plan B", step, PARAGRAPHS[1]])
    assert drop_duplicate_lines(text) == text


def test_drops_trailing_links_to_other_articles() -> None:
    teasers = ["- Fares rise again Commuters will pay more", "- Council budget Where it goes"]
    text = "\n".join([*PARAGRAPHS[:2], *teasers])
    labels = {normalized(teaser) for teaser in teasers}
    assert drop_link_tail(text, labels) == "\n".join(PARAGRAPHS[:2])
    assert drop_link_tail(text, set()) == text


def test_trims_tail_the_second_opinion_does_not_have() -> None:
    promo = "Sign up for our newsletter and get the best stories of the week in your inbox."
    text = "\n".join([*PARAGRAPHS, promo])
    assert trim_unconfirmed_tail(text, "\n".join(PARAGRAPHS)) == "\n".join(PARAGRAPHS)
    # no trim when the other text is about something else, or would cut too much
    assert trim_unconfirmed_tail(text, "Another story entirely, about the harbour.") == text
    assert trim_unconfirmed_tail(text, PARAGRAPHS[0]) == text


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


@pytest.mark.parametrize(
    "counter",
    ["12 comments", "Comments (12)", "View all 1,204 comments", "1.2K shares", "No comments",
     "12 Kommentare", "345 views", "Read 3 comments \u00bb"],
)  # fmt: skip
def test_drops_counter_lines_anywhere_in_the_text(counter: str) -> None:
    text = "\n".join([PARAGRAPHS[0], counter, PARAGRAPHS[1]])
    assert drop_counter_lines(text) == "\n".join(PARAGRAPHS[:2])


@pytest.mark.parametrize(
    "line",
    ["1,234 views · 61 comments · Updated 10:15 GMT", "By Jane Doe | 12 comments", "3 hours ago",
     "Updated 2 mins ago", "10:15 - 61 comments"],
)  # fmt: skip
def test_drops_lines_of_counters_with_times_and_bylines(line: str) -> None:
    text = "\n".join([PARAGRAPHS[0], line, PARAGRAPHS[1]])
    assert drop_counter_lines(text) == "\n".join(PARAGRAPHS[:2])


@pytest.mark.parametrize(
    "line",
    ["No comment.", "He said 12 comments were deleted.", "12 Views on the Budget", "2023",
     "Police said 3 people were hurt · 12 people were arrested", "He left 3 hours ago.",
     "By Jane Doe · Updated 10:15"],
)  # fmt: skip
def test_keeps_lines_that_only_mention_a_count(line: str) -> None:
    text = "\n".join([PARAGRAPHS[0], line, PARAGRAPHS[1]])
    assert drop_counter_lines(text) == text


@pytest.mark.parametrize(
    "line",
    ["Advertisement", "ADVERTISING", "SPONSORED: Save 40 percent on winter tyres this week",
     "Anzeige", "Sponsored content"],
)  # fmt: skip
def test_drops_advertisement_labels_and_labelled_ad_copy(line: str) -> None:
    text = "\n".join([PARAGRAPHS[0], line, PARAGRAPHS[1]])
    assert drop_ad_lines(text) == "\n".join(PARAGRAPHS[:2])


@pytest.mark.parametrize(
    "line",
    ["Advertising: target the shoppers who visited your store.", "- Advertising - earned and paid.",
     "Advertisers pulled their campaigns after the report."],
)  # fmt: skip
def test_keeps_lines_about_advertising(line: str) -> None:
    text = "\n".join([PARAGRAPHS[0], line, PARAGRAPHS[1]])
    assert drop_ad_lines(text) == text


def test_drops_pointers_to_other_articles() -> None:
    text = "Body.\nRelated: Fares rise again\nRead more: Council budget\nMore body."
    assert drop_pointer_lines(text) == "Body.\nMore body."


def test_trims_labels_and_promotions_at_the_edges() -> None:
    promo = "Sign up for our newsletter to get the news first"
    text = "\n".join(
        ["Photos", PARAGRAPHS[0], "- a short list item", PARAGRAPHS[1], "Comments", promo]
    )
    assert trim_edges(text) == "\n".join([PARAGRAPHS[0], "- a short list item", PARAGRAPHS[1]])


def test_keeps_venue_lines_with_an_at_sign() -> None:
    dates = ["June 9 – West Palm Beach, FL @ Coral Sky Amphitheatre", "June 10 – Tampa, FL @ Arena"]
    text = "\n".join([PARAGRAPHS[0], *dates])
    assert trim_edges(text) == text
    assert trim_edges(f"{PARAGRAPHS[0]}\nFollow her on Twitter @reporter") == PARAGRAPHS[0]


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


def test_keeps_lists_when_the_page_has_no_article_container() -> None:
    # trafilatura then collects loose paragraphs; its recall mode keeps the lists among them
    items = ["Route N1 runs from the station to the hospital", "Route N2 runs to the campus"]
    listing = "".join(f"<li>{item}</li>" for item in items)
    body = f"<p>{PARAGRAPHS[0]}</p><ul>{listing}</ul><p>{PARAGRAPHS[1]}</p><p>{PARAGRAPHS[2]}</p>"
    page = f"<html><body><div class='x'>{body}</div></body></html>".encode()
    text = extract_article(page, url="https://news.example/a").text
    assert text.splitlines() == [PARAGRAPHS[0], *(f"- {item}" for item in items), *PARAGRAPHS[1:3]]


def test_runs_full_trafilatura_on_a_page_without_paragraphs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    body = "".join(f"<div>{p}</div>" for p in PARAGRAPHS)
    page = f"<html><body><div class='x'>{body}</div></body></html>".encode()
    calls = []

    def trafilatura_text(tree: object, url: object, options: object) -> str:
        calls.append(options)
        return "\n".join(PARAGRAPHS[:3] if options is generic.FAST_OPTIONS else PARAGRAPHS)

    monkeypatch.setattr(generic, "_trafilatura_text", trafilatura_text)
    assert extract_article(page, url="https://news.example/a").text == "\n".join(PARAGRAPHS)
    assert calls == [generic.FAST_OPTIONS, generic.OPTIONS]


def test_drops_cookie_consent_notice() -> None:
    notice = [
        "We use cookies on our website to give you the most relevant experience.",
        "Manage consent",
        "Necessary cookies are absolutely essential for the website to function properly.",
    ]
    recipe = "Bake the cookies for twelve minutes, until the edges turn golden."
    text = "\n".join([PARAGRAPHS[0], recipe, *notice, PARAGRAPHS[1]])
    assert drop_consent_lines(text) == "\n".join([PARAGRAPHS[0], recipe, PARAGRAPHS[1]])


@pytest.mark.parametrize(
    "dateline",
    [
        "November 19, 2019 /  12:21 AM / Updated 14 hours ago",
        "sexta-feira, 22 de outubro de 2010 às 20:13",
        "Last updated: April 21, 2025",
    ],
)
def test_trims_datelines_at_the_edges(dateline: str) -> None:
    assert trim_edges(f"{dateline}\n{PARAGRAPHS[0]}") == PARAGRAPHS[0]


def test_keeps_headline_with_a_year() -> None:
    text = f"The Best Trail Shoes of 2025\n{PARAGRAPHS[0]}"
    assert trim_edges(text) == text


def test_has_words_stops_at_the_count() -> None:
    assert has_words("one two three", 3)
    assert not has_words("one two", 3)
    assert has_words("東京都", 3)  # each ideograph counts as a word


SIGNUPS = [
    "Sign up for our Morning Briefing newsletter and get the day's top stories in your inbox.",
    "Never miss a story: subscribe to Breaking Alerts for instant updates on big news.",
    "SIGN UP: Get our free Coronavirus newsletter",
    "Join 50,000 readers who get our free email every morning.",
]
REPORTS = [
    "The union urged members to sign up for text alerts about the strike, organisers said.",
    "Residents can register for emergency alerts on the county website.",
    "Join the protest, organisers wrote in an email to members.",
    "The company said 2 million users had signed up for its newsletter service last year.",
]


@pytest.mark.parametrize("promo", SIGNUPS)
def test_a_newsletter_sign_up_inside_the_text_is_dropped(promo: str) -> None:
    text = f"{REPORTS[0]}\n{promo}\n{REPORTS[1]}"
    assert drop_signup_lines(text) == f"{REPORTS[0]}\n{REPORTS[1]}"


def test_sentences_reporting_sign_ups_are_kept() -> None:
    text = "\n".join(REPORTS)
    assert drop_signup_lines(text) == text


@pytest.mark.parametrize(
    "closing",
    [
        "Authorities say that the cases appear to be unrelated.",
        "The company now has 2 million subscribers.",
        "Advertisers fled the platform after the post.",
        "We need to listen, she said.",
        "The case hinges on copyright law, the judge said.",
    ],
)
def test_a_short_closing_sentence_that_mentions_a_promo_word_is_kept(closing: str) -> None:
    text = f"{REPORTS[0]}\n{closing}"
    assert trim_edges(text) == text


@pytest.mark.parametrize(
    "promo",
    [
        "Related: Storm hits the coast",
        "Listen to this article",
        "Source: Reuters",
        "Download our app for the latest news.",
        "Already a subscriber? Log in.",
        "Copyright 2024 The Associated Press. All rights reserved.",
    ],
)
def test_a_promo_or_credit_at_the_end_is_trimmed(promo: str) -> None:
    assert trim_edges(f"{REPORTS[0]}\n{promo}") == REPORTS[0]
