"""What counts as a real change, and when an article is looked at again."""

from __future__ import annotations

import json
import re
import unicodedata
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pipeline.config import DEFAULT_SCHEDULE
from pipeline.versions import (
    _TRANSLATE,
    Content,
    content_hash,
    judge,
    next_check,
    normalise_text,
)
from pipeline.words import count_words, has_words

BODY = " ".join(
    f"Sentence number {n} of a real news article about the council budget." for n in range(30)
)


def test_typography_and_whitespace_do_not_change_the_hash() -> None:
    a = content_hash("“Quoted” — title", "It’s  a te\u00adst\n\n  with   spaces", ["Jane Doe"])
    b = content_hash('"Quoted" - title', "It's a test\nwith spaces", ["Jane  Doe"])
    assert a == b
    assert normalise_text("co\u00adoperate") == "cooperate"


def test_authors_are_part_of_the_content() -> None:
    assert content_hash("t", BODY, ["A"]) != content_hash("t", BODY, ["B"])


def test_a_byline_read_for_the_first_time_is_no_edit_but_a_changed_one_is() -> None:
    """A newer newsmon reads bylines an older one missed: stored articles must not all get a
    new version at their next recheck for it."""
    stored = Content("Budget vote", BODY)
    assert judge(stored, Content("Budget vote", BODY, ("Jane Doe",))).kind == "unchanged"
    assert judge(stored, Content("Budget vote", BODY + " New.", ("Jane Doe",))).kind == "new"
    signed = Content("Budget vote", BODY, ("Jane Doe",))
    assert judge(signed, Content("Budget vote", BODY, ("John Roe",))).kind == "new"


def test_new_article_and_unchanged_article() -> None:
    first = Content("Budget vote", BODY)
    assert judge(None, first).kind == "new"
    assert judge(first, Content("Budget vote", BODY + "  ")).kind == "unchanged"


def test_real_edit_is_a_new_version() -> None:
    old = Content("Budget vote", BODY)
    assert judge(old, Content("Budget vote delayed", BODY)).kind == "new"


def test_tiny_extraction_is_rejected() -> None:
    verdict = judge(Content("t", BODY), Content("t", "Too short."))
    assert verdict.kind == "rejected"
    assert "too short" in (verdict.reason or "")


@pytest.mark.parametrize(
    "text",
    [
        "東京都は火曜日、北部地区への夜間バスの運行を延長することを決定した。住民は署名を集めた。",
        "市议会周二投票决定将夜间公交服务延伸至北部地区，此前居民收集了四千多个签名。",
    ],
)
def test_an_article_in_a_script_without_spaces_is_long_enough(text: str) -> None:
    # 40 characters are 40 words here, not the one or two "words" between punctuation
    assert judge(None, Content("t", text)).kind == "new"


def test_drastically_shorter_extraction_is_rejected_as_truncated() -> None:
    truncated = " ".join(BODY.split()[:100])
    verdict = judge(Content("t", BODY), Content("t", truncated))
    assert verdict.kind == "rejected"
    assert "truncated" in (verdict.reason or "")


def test_paywall_text_is_rejected() -> None:
    walled = " ".join(BODY.split()[:250]) + " Subscribe now to continue reading."
    verdict = judge(Content("t", BODY), Content("t", walled))
    assert verdict.kind == "rejected"
    assert "paywall" in (verdict.reason or "")


# The wall a European visitor meets on many news sites (the IAB consent framework's wording),
# as trafilatura extracts it.
CONSENT = Content(
    "Before you continue",
    "We value your privacy\n"
    "We and our 842 partners store and/or access information on a device, such as cookies and "
    "process personal data, such as unique identifiers and standard information sent by a "
    "device for personalised advertising and content, advertising and content measurement, "
    "and audience insights, as well as to develop and improve products.\n"
    "With your permission we and our partners may use precise geolocation data and "
    "identification through device scanning. You may click to consent to our and our 842 "
    "partners' processing as described above. Alternatively you may access more detailed "
    "information and change your preferences before consenting or to refuse consenting.\n"
    "Accept all\nReject all\nManage options",
)
# A short article (about 110 words): shorter than the truncation guard looks at.
SHORT_ARTICLE = Content(
    "Cat found in New Mexico after 12 years",
    " ".join(BODY.split()[:110]),
    ("Jane Doe",),
)


def test_a_consent_wall_served_for_a_short_article_is_rejected_not_a_version() -> None:
    verdict = judge(SHORT_ARTICLE, CONSENT)
    assert verdict.kind == "rejected"
    assert (verdict.reason or "").startswith("paywall, consent or error page")


def test_a_consent_wall_served_for_a_long_article_is_named_as_such_not_truncation() -> None:
    verdict = judge(Content("t", BODY * 2), CONSENT)
    assert verdict.kind == "rejected"
    assert "consent" in (verdict.reason or "")


def test_a_consent_wall_met_on_the_first_crawl_is_not_stored_as_the_article() -> None:
    verdict = judge(None, CONSENT)
    assert verdict.kind == "rejected"
    assert (verdict.reason or "").startswith("a cookie-consent page, not the article")


def test_an_article_about_cookie_banners_is_still_an_article() -> None:
    about = Content(
        "Regulator fines publishers over cookie banners",
        BODY + " Readers were shown buttons to accept all cookies, the regulator said.",
    )
    assert judge(None, about).kind == "new"
    assert judge(Content(about.title, BODY), about).kind == "new"


def test_a_text_stored_twice_is_a_flip_flop() -> None:
    old = Content("t", BODY)
    other = Content("t", BODY + " One more sentence at the end of it.")
    assert judge(old, other, stored_times=1).kind == "new"
    assert judge(old, other, stored_times=2).kind == "flip-flop"


@pytest.mark.parametrize(
    ("age", "every"),
    [
        (timedelta(hours=1), timedelta(minutes=15)),
        (timedelta(hours=5), timedelta(hours=1)),
        (timedelta(days=3), timedelta(hours=3)),
        (timedelta(days=20), timedelta(days=3)),
        (timedelta(days=100), timedelta(days=30)),
    ],
)
def test_recheck_interval_follows_the_age_schedule(age: timedelta, every: timedelta) -> None:
    now = datetime(2023, 11, 20, tzinfo=UTC)
    assert next_check(DEFAULT_SCHEDULE, now, now - age) == now + every


def test_old_articles_are_never_checked_again() -> None:
    now = datetime(2023, 11, 20, tzinfo=UTC)
    assert next_check(DEFAULT_SCHEDULE, now, now - timedelta(days=400)) is None


def _reference_normalise(text: str) -> str:
    """The definition of normalised text, written plainly (stored hashes depend on it)."""
    text = unicodedata.normalize("NFC", text).translate(_TRANSLATE)
    lines = (re.sub(r"\s+", " ", line).strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def test_normalise_text_matches_its_plain_definition_on_real_articles(shared_corpus: Path) -> None:
    truth = json.loads((shared_corpus / "extraction-bench" / "ground-truth.json").read_text())
    odd = (
        "\u00a0a\u2009b\u00ad\u200bc\x1c d\u2028e\u3000f \u201cg\u201d \u2013 \u00ab h \u00bb\r\n\n"
    )
    for item in truth.values():
        body = item["articleBody"]
        assert normalise_text(body) == _reference_normalise(body)
        assert normalise_text(odd + body + odd) == _reference_normalise(odd + body + odd)


@pytest.mark.parametrize("count", [0, 1, 24, 25, 26, 500])
def test_has_words_agrees_with_counting_every_word(count: int) -> None:
    for text in ("", "one", "naïve café, déjà-vu_x " * 10, BODY):
        assert has_words(text, count) == (count_words(text) >= count)
