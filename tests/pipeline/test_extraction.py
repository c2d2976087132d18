"""Tests for ``pipeline.extraction``: golden pages, failure reasons, metadata rules, purity.

Golden files live in ``tests/fixtures/html/<domain>/<case>.html`` beside ``<case>.json``, which
holds the inputs (``url``, optional ``content_type``; ``source`` says where the page came from) and,
under ``expected``, the extracted fields; the text is pinned by its sha256, word count and
first/last 200 characters.

To add a case, drop the page in as ``<case>.html``, write ``{"url": "..."}`` to ``<case>.json`` and
regenerate. To regenerate after a deliberate change (new trafilatura, better rules), run::

    NEWSMON_UPDATE_GOLDEN=1 pytest tests/pipeline/test_extraction.py

and review the diff of the ``.json`` files before committing.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from pipeline.extraction import MIN_WORDS, ExtractionFailed, extract_article, generic
from pipeline.extraction.generic import split_authors
from pipeline.extraction.metadata import normalize_language, parse_timestamp
from pipeline.items import Article
from pipeline.words import count_words

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "html"
GOLDEN_CASES = sorted(FIXTURES.glob("*/*.html"))
UPDATE_GOLDEN = os.environ.get("NEWSMON_UPDATE_GOLDEN") == "1"
PARAGRAPH = (
    "The city council voted on Tuesday to extend the night bus service to the northern "
    "districts, after residents collected more than four thousand signatures. The new "
    "routes start in March and will run every twenty minutes until two in the morning."
)
SECOND_PARAGRAPH = (
    "Drivers' unions welcomed the plan but asked for more staff at the depots, saying that the "
    "current rotas already stretch crews thin on weekends and during school holidays."
)


def article_fields(article: Article) -> dict[str, Any]:
    """The golden-file view of an article: metadata as JSON values, the text as a fingerprint."""

    def iso(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "title": article.title,
        "authors": article.authors,
        "published_at": iso(article.published_at),
        "modified_at": iso(article.modified_at),
        "language": article.language,
        "site_name": article.site_name,
        "canonical_url": article.canonical_url,
        "description": article.description,
        "text": {
            "sha256": hashlib.sha256(article.text.encode("utf-8")).hexdigest(),
            "words": count_words(article.text),
            "head": article.text[:200],
            "tail": article.text[-200:],
        },
    }


def page(body: str, *, head: str = "", lang: str = "en") -> bytes:
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">'
        f"<title>Night buses reach the north</title>{head}</head>"
        f"<body>{body}</body></html>"
    ).encode()


def article_page(head: str = "", lang: str = "en") -> bytes:
    paragraphs = f"<p>{PARAGRAPH}</p><p>{SECOND_PARAGRAPH}</p>"
    body = f"<article><h1>Night buses reach the north</h1>{paragraphs}</article>"
    return page(body, head=head, lang=lang)


def short_page(head: str = "", lang: str = "en") -> bytes:
    """An article too short (under ``language.MIN_CHARS``) for its text to tell its language."""
    text = " ".join(["Bus"] * MIN_WORDS)
    return page(f"<article><h1>Night buses</h1><p>{text}.</p></article>", head=head, lang=lang)


@pytest.mark.parametrize("html_path", GOLDEN_CASES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_extracts_golden_page(html_path: Path) -> None:
    json_path = html_path.with_suffix(".json")
    case = json.loads(json_path.read_text("utf-8"))
    article = extract_article(
        html_path.read_bytes(), url=case["url"], content_type=case.get("content_type")
    )
    if UPDATE_GOLDEN:
        case["expected"] = article_fields(article)
        json_path.write_text(json.dumps(case, indent=2, ensure_ascii=False) + "\n", "utf-8")
    assert "expected" in case, (
        f"{json_path} has no expected fields: run with NEWSMON_UPDATE_GOLDEN=1"
    )
    assert article_fields(article) == case["expected"]


def test_golden_set_covers_authors_dates_and_languages() -> None:
    expected = [
        json.loads(p.with_suffix(".json").read_text("utf-8"))["expected"] for p in GOLDEN_CASES
    ]
    assert len(expected) >= 6
    assert any(e["authors"] and e["published_at"] and "T" in e["published_at"] for e in expected)
    assert len({e["language"] for e in expected} - {None, "en"}) >= 2


def test_returns_article_with_metadata() -> None:
    head = (
        '<link rel="canonical" href="/2024/night-buses">'
        '<meta property="og:site_name" content="Harbor Gazette">'
        '<meta name="author" content="Ana Lima; Bo Chen">'
        '<meta name="description" content="Night buses reach the north.">'
        '<meta property="article:published_time" content="2024-03-01T08:30:00+01:00">'
        '<meta property="article:modified_time" content="2024-03-02T10:00:00Z">'
    )
    article = extract_article(article_page(head), url="https://news.example/a?utm_source=x")

    assert article.title == "Night buses reach the north"
    assert article.text == f"{PARAGRAPH}\n{SECOND_PARAGRAPH}"
    assert article.authors == ["Ana Lima", "Bo Chen"]
    assert article.published_at == datetime(2024, 3, 1, 8, 30, tzinfo=timezone(timedelta(hours=1)))
    assert article.modified_at == datetime(2024, 3, 2, 10, 0, tzinfo=UTC)
    assert article.language == "en"
    assert article.site_name == "Harbor Gazette"
    assert article.canonical_url == "https://news.example/2024/night-buses"
    assert article.description == "Night buses reach the north."


def test_reads_timestamps_from_json_ld() -> None:
    json_ld = {
        "@context": "https://schema.org",
        "@graph": [
            {"@type": "WebPage", "datePublished": "2001-01-01T00:00:00Z"},
            {
                "@type": "NewsArticle",
                "datePublished": "2024-03-01T07:30:00Z",
                "dateModified": "2024-03-01T09:00:00+00:00",
            },
        ],
    }
    head = f'<script type="application/ld+json">{json.dumps(json_ld)}</script>'
    article = extract_article(article_page(head), url="https://news.example/a")
    assert article.published_at == datetime(2024, 3, 1, 7, 30, tzinfo=UTC)
    assert article.modified_at == datetime(2024, 3, 1, 9, 0, tzinfo=UTC)


def test_prefers_full_timestamp_over_bare_date() -> None:
    head = (
        '<meta name="date" content="2024-03-01">'
        '<meta itemprop="datePublished dateCreated" content="2024-03-01T07:30:00Z">'
    )
    article = extract_article(article_page(head), url="https://news.example/a")
    assert article.published_at == datetime(2024, 3, 1, 7, 30, tzinfo=UTC)


def test_reads_a_timestamp_from_meta_name_date() -> None:
    head = '<meta name="date" content="2023-11-13T22:30:30Z">'
    article = extract_article(article_page(head), url="https://news.example/a")
    assert article.published_at == datetime(2023, 11, 13, 22, 30, 30, tzinfo=UTC)


def test_reads_json_ld_with_trailing_commas() -> None:
    # as publishers write it (a real page: "keywords": ["Smart News", "Science", ],)
    head = (
        '<script type="application/ld+json">{"@type": "NewsArticle", "keywords": ["a", "b", ],'
        ' "datePublished": "2019-11-18T16:06:51-05:00",}</script>'
    )
    article = extract_article(article_page(head), url="https://news.example/a")
    assert article.published_at == datetime(2019, 11, 18, 21, 6, 51, tzinfo=UTC)


def test_a_time_element_in_the_article_gives_the_days_time_of_day() -> None:
    time = '<p>By Jane Doe, <time datetime="2023-11-13T22:30:30Z">Nov. 13</time></p>'
    paragraphs = f"<p>{PARAGRAPH}</p><p>{SECOND_PARAGRAPH}</p>"
    body = f"<article><h1>Night buses reach the north</h1>{time}{paragraphs}</article>"
    article = extract_article(page(body), url="https://news.example/2023/11/13/night-buses")
    assert article.published_at == datetime(2023, 11, 13, 22, 30, 30, tzinfo=UTC)


def test_a_live_blog_without_a_stated_date_is_published_at_its_first_entry() -> None:
    entries = "".join(
        f'<div class="entry"><time datetime="2023-11-13T{hour}:00:00Z">{hour}:00</time>'
        f"<p>{text}</p></div>"
        for hour, text in (("18", PARAGRAPH), ("09", SECOND_PARAGRAPH))  # newest first
    )
    body = f"<article><h1>Live: night buses reach the north</h1>{entries}</article>"
    article = extract_article(page(body), url="https://news.example/2023/11/13/live-buses")
    assert article.published_at == datetime(2023, 11, 13, 9, tzinfo=UTC)


def test_a_time_element_on_another_day_does_not_move_the_date() -> None:
    # an "Updated" time two days later: the day found stays, at midnight
    time = '<p>Updated <time datetime="2023-11-15T08:00:00Z">Nov. 15</time></p>'
    head = '<meta name="date" content="2023-11-13">'
    body = (
        f"<article><h1>Night buses</h1>{time}<p>{PARAGRAPH}</p><p>{SECOND_PARAGRAPH}</p></article>"
    )
    article = extract_article(page(body, head=head), url="https://news.example/a")
    assert article.published_at == datetime(2023, 11, 13, tzinfo=UTC)


def test_bare_date_becomes_midnight_utc() -> None:
    article = extract_article(
        article_page('<meta name="date" content="2024-03-01">'), url="https://news.example/a"
    )
    assert article.published_at == datetime(2024, 3, 1, tzinfo=UTC)


def test_language_falls_back_to_og_locale() -> None:
    head = '<meta property="og:locale" content="pt_BR">'
    article = extract_article(short_page(head, lang=""), url="https://a.example/")
    assert article.language == "pt"


@pytest.mark.parametrize(
    ("case", "language"),
    [("wday.ru/model-boitsya-starosti", "ru"), ("note100yen.com/kindle-shortcut-key", "ja"),
     ("npr.org/plumbers-substitute-teachers", "en")],
)  # fmt: skip
def test_language_is_read_from_the_text_when_the_page_states_none(case: str, language: str) -> None:
    html = (FIXTURES / f"{case}.html").read_text("utf-8")
    unstated = re.sub(
        r'\s(?:xml:)?lang="[^"]*"|<meta[^>]+(?:og:locale|[Ll]anguage)[^>]*>', "", html
    )
    assert 'lang="' not in unstated
    url = json.loads((FIXTURES / f"{case}.json").read_text("utf-8"))["url"]
    assert extract_article(unstated.encode(), url=url).language == language


def test_a_text_clearly_in_another_language_overrides_the_pages_statement() -> None:
    # a template that says German around an English article (4 of 849 benchmark pages)
    assert extract_article(article_page(lang="de")).language == "en"


def test_a_short_or_mixed_text_keeps_the_stated_language() -> None:
    assert extract_article(short_page(lang="de")).language == "de"
    spanish = (
        "El ayuntamiento votó el martes ampliar el servicio de autobuses nocturnos a los "
        "distritos del norte, después de que los vecinos reunieran más de cuatro mil firmas. "
        "Las nuevas rutas empiezan en marzo y funcionarán cada veinte minutos hasta las dos."
    )
    mixed = f"<article><p>{PARAGRAPH}</p><p>{spanish}</p></article>"
    assert extract_article(page(mixed, lang="es")).language == "es"


def test_language_falls_back_to_json_ld_in_language() -> None:
    jsonld = (
        '<script type="application/ld+json">{"@type": "NewsArticle", '
        '"headline": "Night buses reach the north", "inLanguage": "nl-BE"}</script>'
    )
    assert extract_article(short_page(jsonld, lang="")).language == "nl"


@pytest.mark.parametrize("text", ["12345 67890 " * 10, "broken \ud800 text " * 10, ""])
def test_a_text_in_no_telling_language_has_none(text: str) -> None:
    from pipeline.extraction.language import detect_language

    assert detect_language(text) is None


def test_canonical_url_falls_back_to_og_url() -> None:
    head = '<meta property="og:url" content="https://news.example/night-buses">'
    article = extract_article(article_page(head), url="https://news.example/a?ref=rss")
    assert article.canonical_url == "https://news.example/night-buses"


@pytest.mark.parametrize("front", ["/", "https://news.example", "https://news.example/"])
def test_a_canonical_pointing_at_the_front_page_is_passed_over(front: str) -> None:
    # a template putting the site's root on every page would make every article one
    head = f'<link rel="canonical" href="{front}"><meta property="og:url" content="/night-buses">'
    article = extract_article(article_page(head), url="https://news.example/a?ref=rss")
    assert article.canonical_url == "https://news.example/night-buses"


def test_relative_canonical_without_page_url_is_dropped() -> None:
    article = extract_article(article_page('<link rel="canonical" href="/a">'))
    assert article.canonical_url is None


def test_a_malformed_canonical_is_passed_over() -> None:
    head = (
        '<base href="http://[::1"><link rel="canonical" href="http://[::1/a">'
        '<meta property="og:url" content="https://news.example/night-buses">'
    )
    article = extract_article(article_page(head), url="https://news.example/a")
    assert article.canonical_url == "https://news.example/night-buses"


def test_a_frameset_page_is_no_article_not_an_error() -> None:
    frames = b'<html><frameset><frame src="a.html"><frame src="b.html"></frameset></html>'
    with pytest.raises(ExtractionFailed):
        extract_article(frames, url="https://news.example/framed")


def test_drops_empty_page() -> None:
    with pytest.raises(ExtractionFailed) as failure:
        extract_article(b"")
    assert failure.value.reason == "empty page"


def test_drops_page_without_text() -> None:
    with pytest.raises(ExtractionFailed) as failure:
        extract_article(page('<div><img src="a.png"></div>'), url="https://a.example/")
    assert failure.value.reason == "no article text"


def test_drops_navigation_only_page() -> None:
    links = "".join(f'<li><a href="/section/{i}">Section number {i}</a></li>' for i in range(40))
    body = f"<header><nav><ul>{links}</ul></nav></header><footer><nav>{links}</nav></footer>"
    with pytest.raises(ExtractionFailed) as failure:
        extract_article(page(body), url="https://a.example/")
    assert failure.value.reason == "only navigation links"


def test_drops_text_below_word_floor() -> None:
    short = " ".join(["word"] * (MIN_WORDS - 5))
    with pytest.raises(ExtractionFailed, match=r"text too short \(20 words\)"):
        extract_article(page(f"<article><p>{short}.</p></article>"), url="https://a.example/")


@pytest.mark.parametrize(
    ("body", "content_type", "reason"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", None, "not HTML (binary data)"),
        (
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
            "application/octet-stream",
            "not HTML (binary data)",
        ),
        (article_page(), "application/pdf", "not HTML (application/pdf)"),
        (
            b'{"title": "Night buses", "body": "..."}',
            "application/json",
            "not HTML (application/json)",
        ),
        (b"Just some plain words, no markup at all.", "text/plain", "not HTML (no markup)"),
    ],
)
def test_drops_non_html(body: bytes, content_type: str | None, reason: str) -> None:
    with pytest.raises(ExtractionFailed) as failure:
        extract_article(body, content_type=content_type)
    assert failure.value.reason == reason


def test_accepts_str_and_xhtml_content_type() -> None:
    html = article_page().decode()
    article = extract_article(html, content_type="application/xhtml+xml; charset=utf-8")
    assert article.text.startswith("The city council")


def test_accepts_utf16_page_with_bom() -> None:
    body = article_page().decode().replace('<meta charset="utf-8">', "").encode("utf-16")
    assert extract_article(body).text.startswith("The city council")


def test_decodes_legacy_charset_from_header() -> None:
    body = article_page().replace(b'<meta charset="utf-8">', b"")
    body = body.replace(
        b"The city council", "Le conseil de la ville \u2014 \u00e9lu".encode("cp1252")
    )
    article = extract_article(body, content_type="text/html; charset=ISO-8859-1")
    assert article.text.startswith("Le conseil de la ville \u2014 \u00e9lu")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-03-01T07:30:00Z", datetime(2024, 3, 1, 7, 30, tzinfo=UTC)),
        ("2024-03-01T07:30:00.000+0200", datetime(2024, 3, 1, 5, 30, tzinfo=UTC)),
        ("2024-03-01 07:30:00", datetime(2024, 3, 1, 7, 30, tzinfo=UTC)),
        ("Fri, 01 Mar 2024 07:30:00 GMT", datetime(2024, 3, 1, 7, 30, tzinfo=UTC)),
        ("2024-03-01", None),
        ("1970-01-01T00:00:00Z", None),
        ("2999-01-01T00:00:00Z", None),
        ("yesterday", None),
    ],
)
def test_parses_timestamps_to_aware_datetimes(value: str, expected: datetime | None) -> None:
    assert parse_timestamp(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("en-US", "en"), ("pt_BR", "pt"), ("DE", "de"), ("", None), ("english please", None)],
)
def test_normalizes_language_to_primary_tag(value: str, expected: str | None) -> None:
    assert normalize_language(value) == expected


def test_splits_and_dedupes_authors() -> None:
    assert split_authors("Ana Lima; Bo Chen;  ; ana lima") == ["Ana Lima", "Bo Chen"]
    assert split_authors(None) == []


def test_counts_cjk_characters_as_words() -> None:
    assert count_words("日本語のテキスト") == 8
    assert count_words("two words") == 2


def test_imports_nothing_from_crawling_or_storage() -> None:
    forbidden = {"scrapy", "twisted", "sqlalchemy", "alembic", "spiders", "storage"}
    code = (
        "import sys, pipeline.extraction\n"
        f"print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in {forbidden!r})))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


def test_falls_back_to_json_ld_body_when_trafilatura_finds_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(generic, "bare_extraction", lambda *args, **kwargs: None)
    monkeypatch.setattr(generic, "readability_text", lambda tree: "")
    json_ld = {
        "@type": "NewsArticle",
        "articleBody": f"<p>{PARAGRAPH}</p><p>{SECOND_PARAGRAPH}</p>",
    }
    head = f'<script type="application/ld+json">{json.dumps(json_ld)}</script>'
    article = extract_article(article_page(head), url="https://news.example/a")
    assert article.text == f"{PARAGRAPH}\n{SECOND_PARAGRAPH}"


def test_ignores_json_ld_body_not_shown_on_page(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(generic, "bare_extraction", lambda *args, **kwargs: None)
    monkeypatch.setattr(generic, "readability_text", lambda tree: "")
    json_ld = {"@type": "NewsArticle", "articleBody": " ".join(f"token{i}" for i in range(60))}
    head = f'<script type="application/ld+json">{json.dumps(json_ld)}</script>'
    with pytest.raises(ExtractionFailed, match="no article text"):
        extract_article(page("<div></div>", head=head), url="https://news.example/a")


def test_falls_back_to_readability_when_trafilatura_finds_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(generic, "bare_extraction", lambda *args, **kwargs: None)
    article = extract_article(article_page(), url="https://news.example/a")
    assert article.title == "Night buses reach the north"
    assert article.text == f"{PARAGRAPH}\n{SECOND_PARAGRAPH}"


ITALIAN = (
    "Il consiglio comunale ha votato martedì per estendere il servizio di autobus notturni ai "
    "quartieri settentrionali, dopo che i residenti hanno raccolto più di quattromila firme. Le "
    "nuove linee partiranno a marzo e passeranno ogni venti minuti fino alle due di notte, con "
    "una fermata all'ospedale e una al campus universitario. I sindacati hanno accolto il piano "
    "ma hanno chiesto più personale nei depositi. Una revisione del servizio è prevista dopo sei "
    "mesi, quando il comune pubblicherà i dati sui passeggeri di ogni linea."
)


def test_a_mostly_italian_text_is_italian_unless_the_page_says_otherwise() -> None:
    from pipeline.extraction.language import article_language

    text = f"{ITALIAN}\n{PARAGRAPH}"  # CLD2: about 60 % Italian, 40 % English
    assert article_language(None, text) == "it"
    assert article_language("en", text) == "en"  # not clear enough to overrule the page


MIDDLE_PARAGRAPH = (
    "The transport authority said the extra services would cost about two million a year, paid "
    "for by the regional fund that also covers the new tram line to the airport and the harbour."
)


def fake_trafilatura(fast: str, full: str, calls: list[str]) -> Any:
    """``_trafilatura_text`` returning ``fast`` for the fast pass and ``full`` for the cascade."""

    def text(tree: Any, url: str | None, options: Any) -> str:
        calls.append("fast" if options is generic.FAST_OPTIONS else "full")
        return fast if options is generic.FAST_OPTIONS else full

    return text


def test_the_full_cascade_weighs_in_when_a_second_opinion_finds_more_than_the_fast_pass(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The fast pass took one block of the article; readability found more, trafilatura's own
    fallbacks found all of it: the text that says most and holds the fast pass's wins."""
    calls: list[str] = []
    full = f"{PARAGRAPH}\n{MIDDLE_PARAGRAPH}\n{SECOND_PARAGRAPH}"
    monkeypatch.setattr(generic, "_trafilatura_text", fake_trafilatura(PARAGRAPH, full, calls))
    monkeypatch.setattr(
        generic, "readability_text", lambda tree: f"{PARAGRAPH}\n{SECOND_PARAGRAPH}"
    )
    article = extract_article(article_page(), url="https://news.example/a")
    assert calls == ["fast", "full"]
    assert article.text == full


def test_the_full_cascade_stays_off_when_no_second_opinion_finds_more(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[str] = []
    fast = f"{PARAGRAPH}\n{SECOND_PARAGRAPH}"
    monkeypatch.setattr(generic, "_trafilatura_text", fake_trafilatura(fast, "unused", calls))
    monkeypatch.setattr(generic, "readability_text", lambda tree: fast)
    article = extract_article(article_page(), url="https://news.example/a")
    assert calls == ["fast"]
    assert article.text == fast


@pytest.mark.parametrize(
    ("byline", "authors"),
    [
        ('<p class="byline">By Catherine Shu</p>', ["Catherine Shu"]),
        ('<div class="article-byline">By Jane Reporter and Ann Other | Updated 3 hours ago</div>',
         ["Jane Reporter", "Ann Other"]),
        ('<p class="byline">By <a href="/a">LISA MASCARO</a><span>Associated Press</span></p>',
         ["LISA MASCARO"]),
        ('<a rel="author" href="/staff/kh">Kate Henshaw</a>', ["Kate Henshaw"]),
        ('<div class="byline">Posted 2024-03-05 by admin</div>', []),
        ('<div class="byline">By Jane Reporter, a reporter covering the city since 2009</div>', []),
    ],
)  # fmt: skip
def test_a_visible_byline_gives_the_authors_when_no_metadata_does(
    byline: str, authors: list[str]
) -> None:
    body = f"<article><h1>Night buses reach the north</h1>{byline}<p>{PARAGRAPH}</p>" + (
        f"<p>{SECOND_PARAGRAPH}</p></article>"
    )
    assert extract_article(page(body), url="https://news.example/a").authors == authors
