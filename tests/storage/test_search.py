"""Full-text search on SQLite and PostgreSQL: the same behaviour on both backends."""

from __future__ import annotations

import hashlib
import itertools
import random
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from storage.blobs import pack
from storage.db import make_engine
from storage.models import Article, ArticleStory, Outlet, Story, Version
from storage.query import QuerySyntaxError, Term, matches, parse_query
from storage.search import UnknownNameError, index_article, remove_from_index, search_articles

_serial = itertools.count(1)


def add_article(
    session: Session,
    outlet: str,
    title: str,
    text: str,
    *,
    published: datetime | None = None,
    removed: bool = False,
) -> int:
    """Store an article with one version and index it, as the pipeline would."""
    row = session.query(Outlet).filter_by(name=outlet).one_or_none()
    if row is None:
        row = Outlet(name=outlet)
        session.add(row)
    article = Article(
        outlet=row,
        url=f"https://{outlet.lower().replace(' ', '-')}.example/{next(_serial)}",
        title=title,
        text=text,
        published_at=published,
        removed_at=datetime(2024, 6, 1, tzinfo=UTC) if removed else None,
    )
    article.versions.append(
        Version(
            number=1,
            title=title,
            text_blob=pack(text, None, None).text,
            content_hash=hashlib.sha256(text.encode()).hexdigest(),
        )
    )
    session.add(article)
    session.flush()
    index_article(session, article.id, title, text)
    return article.id


def ids(session: Session, query: str, **filters: object) -> set[int]:
    return {hit.article_id for hit in search_articles(session, query, **filters)}  # type: ignore[arg-type]


def test_phrase_needs_adjacent_words_but_words_do_not(db_session: Session) -> None:
    together = add_article(db_session, "Wire", "Leak", "The dissent memo was sent on Monday.")
    apart = add_article(db_session, "Wire", "Other", "A memo about dissent among diplomats.")

    assert ids(db_session, '"dissent memo"') == {together}
    assert ids(db_session, "dissent memo") == {together, apart}


def test_or_and_not(db_session: Session) -> None:
    gaza = add_article(db_session, "Wire", "Gaza talks", "Negotiators met in Cairo.")
    both = add_article(db_session, "Wire", "Gaza and Hamas", "Hamas answered the proposal.")
    memo = add_article(db_session, "Wire", "Memo", "The State Department dissent memo.")

    assert ids(db_session, "gaza NOT hamas") == {gaza}
    assert ids(db_session, "gaza -hamas") == {gaza}
    assert ids(db_session, "cairo OR memo") == {gaza, memo}
    assert ids(db_session, '"dissent memo" OR (gaza AND hamas)') == {both, memo}


def test_prefix(db_session: Session) -> None:
    ceasefire = add_article(db_session, "Wire", "Ceasefire holds", "Quiet night.")
    ceased = add_article(db_session, "Wire", "Fighting", "The shelling ceased at dawn.")
    add_article(db_session, "Wire", "Unrelated", "Cease is not here, only peace.")

    assert ids(db_session, "cease*") >= {ceasefire, ceased}
    assert ids(db_session, "ceasef*") == {ceasefire}


@pytest.mark.parametrize(
    ("stored", "query"),
    [
        ("Café culture", "cafe"),
        ("Cafe culture", "café"),
        ("ÉLYSÉE PALACE", "élysée"),
        ("Straße", "STRASSE"),
    ],
)
def test_accent_and_case_insensitive(db_session: Session, stored: str, query: str) -> None:
    article = add_article(db_session, "Wire", stored, "Body text.")

    assert ids(db_session, query) == {article}


def test_greek_accents_fold_like_latin_ones(db_session: Session) -> None:
    # FTS5's own unicode61 folding keeps Greek tonos; the index must not rely on it.
    article = add_article(db_session, "Kathimerini", "Η Αθήνα σήμερα", "Κείμενο.")

    assert ids(db_session, "αθηνα") == {article}
    assert ids(db_session, "ΑΘΗΝΑ") == {article}


def test_title_match_ranks_above_body_only_match(db_session: Session) -> None:
    body_only = add_article(
        db_session, "Wire", "Regional roundup", "Talks on a ceasefire resumed after a long pause."
    )
    in_title = add_article(db_session, "Wire", "Ceasefire talks resume", "Negotiators met again.")

    hits = search_articles(db_session, "ceasefire")

    assert [hit.article_id for hit in hits] == [in_title, body_only]
    assert hits[0].score > hits[1].score


def test_hit_fields_and_snippet(db_session: Session) -> None:
    published = datetime(2024, 5, 2, 9, 30, tzinfo=UTC)
    text = (
        "Opening words that say nothing much at all about the topic in question here. "
        "Later the Café owners on the Élysée side said the Dissent Memo surprised them."
    )
    article = add_article(db_session, "Le Monde", "Un titre", text, published=published)

    (hit,) = search_articles(db_session, '"dissent memo" café')

    assert (hit.article_id, hit.outlet, hit.title, hit.published_at) == (
        article,
        "Le Monde",
        "Un titre",
        published,
    )
    assert hit.url.startswith("https://le-monde.example/")
    assert "[Café]" in hit.snippet
    assert "[Dissent Memo]" in hit.snippet
    assert hit.snippet.startswith("…")
    assert len(hit.snippet.split()) <= 18


def test_snippet_falls_back_to_the_title(db_session: Session) -> None:
    add_article(db_session, "Wire", "Ceasefire agreed", "Nothing else to report.")

    (hit,) = search_articles(db_session, "ceasefire")

    assert hit.snippet == "[Ceasefire] agreed"


def test_outlet_filter_is_case_insensitive_and_names_must_exist(db_session: Session) -> None:
    wire = add_article(db_session, "Wire", "Gaza", "Text.")
    times = add_article(db_session, "The Times", "Gaza", "Text.")

    assert ids(db_session, "gaza", outlets=["the times"]) == {times}
    assert ids(db_session, "gaza", outlets=["WIRE", "The Times"]) == {wire, times}
    with pytest.raises(
        UnknownNameError, match=r"no outlet named 'Nobody' \(known: The Times, Wire\)"
    ):
        ids(db_session, "gaza", outlets=["Wire", "Nobody"])


def test_story_filter_takes_an_existing_story(db_session: Session) -> None:
    inside = add_article(db_session, "Wire", "Gaza talks", "Text.")
    add_article(db_session, "Wire", "Gaza aid", "Text.")
    story = Story(name="Gaza ceasefire", query="gaza")
    db_session.add(story)
    db_session.flush()
    db_session.add(ArticleStory(article_id=inside, story_id=story.id))
    db_session.flush()

    assert ids(db_session, "gaza", story="gaza ceasefire") == {inside}
    with pytest.raises(UnknownNameError, match="no story named 'no such story'"):
        ids(db_session, "gaza", story="no such story")


def test_since_and_until_use_first_seen_when_publication_is_unknown(db_session: Session) -> None:
    may = add_article(
        db_session, "Wire", "Gaza", "May.", published=datetime(2024, 5, 1, tzinfo=UTC)
    )
    june = add_article(
        db_session, "Wire", "Gaza", "June.", published=datetime(2024, 6, 1, tzinfo=UTC)
    )
    undated = add_article(db_session, "Wire", "Gaza", "Undated.")
    article = db_session.get(Article, undated)
    assert article is not None
    article.first_seen_at = datetime(2024, 7, 1, tzinfo=UTC)
    db_session.flush()

    assert ids(db_session, "gaza", since=datetime(2024, 5, 15, tzinfo=UTC)) == {june, undated}
    assert ids(db_session, "gaza", until=datetime(2024, 5, 31, tzinfo=UTC)) == {may}
    # inclusive, as a story's ``until``: published exactly then is in
    assert ids(db_session, "gaza", until=datetime(2024, 6, 1, tzinfo=UTC)) == {may, june}
    window = {"since": datetime(2024, 6, 1, tzinfo=UTC), "until": datetime(2024, 6, 2, tzinfo=UTC)}
    assert ids(db_session, "gaza", **window) == {june}


def test_newer_article_first_when_scores_tie(db_session: Session) -> None:
    older = add_article(
        db_session, "Wire", "Gaza", "Same.", published=datetime(2024, 1, 1, tzinfo=UTC)
    )
    newer = add_article(
        db_session, "Wire", "Gaza", "Same.", published=datetime(2024, 2, 1, tzinfo=UTC)
    )

    assert [hit.article_id for hit in search_articles(db_session, "gaza")] == [newer, older]


def test_limit(db_session: Session) -> None:
    for n in range(5):
        add_article(db_session, "Wire", f"Gaza {n}", "Text.")

    assert len(search_articles(db_session, "gaza", limit=3)) == 3
    assert search_articles(db_session, "gaza", limit=0) == []


@pytest.mark.parametrize(
    "query", ['"unclosed', "(gaza", "gaza)", "gaza OR", "NOT gaza", "AND", "()"]
)
def test_malformed_query_raises_query_syntax_error(db_session: Session, query: str) -> None:
    add_article(db_session, "Wire", "Gaza", "Text.")

    with pytest.raises(QuerySyntaxError):
        search_articles(db_session, query)


@pytest.mark.parametrize(
    "query",
    [
        "NEAR(gaza talks)",
        "gaza:talks",
        "^gaza",
        "gaza*:",
        '"gaza" "',
        "gaza + talks",
        "{gaza}",
        "'gaza'",
    ],
)
def test_index_syntax_in_user_words_is_harmless(db_session: Session, query: str) -> None:
    article = add_article(db_session, "Wire", "Gaza talks near Cairo", "Text.")

    try:
        found = ids(db_session, query)
    except QuerySyntaxError:  # ours, with a readable message, is fine; an SQL error is not
        return
    assert found <= {article}


def test_reindexing_replaces_the_old_text(db_session: Session) -> None:
    article = add_article(db_session, "Wire", "Old title", "Original wording about tariffs.")

    index_article(db_session, article, "New title", "Revised wording about sanctions.")

    assert ids(db_session, "tariffs") == set()
    assert ids(db_session, "old") == set()
    assert ids(db_session, "sanctions") == {article}
    assert ids(db_session, "new") == {article}


def test_remove_from_index(db_session: Session) -> None:
    article = add_article(db_session, "Wire", "Gaza", "Text.")

    remove_from_index(db_session, article)

    assert ids(db_session, "gaza") == set()


def test_removed_articles_are_still_searchable(db_session: Session) -> None:
    article = add_article(db_session, "Wire", "Retracted story", "Text.", removed=True)

    assert ids(db_session, "retracted") == {article}


def test_nothing_is_committed(db_session: Session) -> None:
    add_article(db_session, "Wire", "Gaza", "Text.")
    search_articles(db_session, "gaza")

    db_session.rollback()

    assert ids(db_session, "gaza") == set()


def test_accepts_a_parsed_or_hand_built_query(db_session: Session) -> None:
    article = add_article(db_session, "Wire", "The U.S. position", "Text.")

    assert ids(db_session, parse_query("u.s.")) == {article}  # type: ignore[arg-type]
    assert {h.article_id for h in search_articles(db_session, Term("U.S."))} == {article}


def test_words_postgres_parser_would_split_are_found(db_session: Session) -> None:
    article = add_article(db_session, "Wire", "Commit 2e3f released", "Hash 3e5a and covid19.")

    assert ids(db_session, "2e3f") == {article}
    assert ids(db_session, "3e5a covid19") == {article}
    assert ids(db_session, '"hash 3e5a"') == {article}


FIXTURES = [
    ("Gaza ceasefire talks resume", "Negotiators met in Cairo; Hamas answered."),
    ("State Department dissent memo", "Diplomats signed the memo about Gaza policy."),
    ("Café owners protest", "Le café est fermé. The co-op in the U.S. closed."),
    ("Ceasefire holds", "The shelling ceased at dawn, officials said."),
    ("Memo", "A dissent about the memo and the ceasefire."),
    ("Title ends with dissent", "memo starts the body, so the phrase spans two fields."),
    ("Élysée reacts", "The Élysée said nothing. Hash 2e3f."),
]

AGREEMENT_QUERIES = [
    "gaza",
    '"dissent memo"',
    "dissent memo",
    "gaza NOT hamas",
    "cease*",
    "memo OR café",
    '(memo OR cafe) NOT "state department"',
    "co-op",
    "u.s.",
    "elysee -hash",
    "2e3*",
    "ceasefire -(gaza OR memo)",
    '"dissent mem"*',
    "and",
]


@pytest.mark.parametrize("query", AGREEMENT_QUERIES)
def test_matches_agrees_with_the_index(db_session: Session, query: str) -> None:
    stored = {
        add_article(db_session, "Wire", title, text): (title, text) for title, text in FIXTURES
    }
    parsed = parse_query(query)

    expected = {article for article, fields in stored.items() if matches(parsed, *fields)}

    assert ids(db_session, query, limit=100) == expected


def test_oversized_words_and_documents_still_index(db_session: Session) -> None:
    long_word = add_article(db_session, "Wire", "Gaza", "x" * 3000 + " ceasefire")
    many_words = " ".join(f"{n:x}word{n}" for n in range(60_000))
    huge = add_article(db_session, "Wire", "Huge table", many_words)

    assert ids(db_session, "ceasefire") == {long_word}
    assert ids(db_session, "huge") == {huge}  # the title is indexed first, so it survives


def test_random_queries_agree_with_matches(db_session: Session) -> None:
    stored = {add_article(db_session, "Wire", t, x): (t, x) for t, x in FIXTURES}
    pieces = ["gaza", "memo", "dissent", "cease*", "café", '"dissent memo"', "co-op", "AND", "OR"]
    pieces += ["NOT", "-", "(", ")", "hamas", "the", "élysée", "2e3*", "u.s.", "ceasefire"]
    rng = random.Random(7)
    checked = 0
    for _ in range(300):
        text = " ".join(rng.choice(pieces) for _ in range(rng.randint(1, 6)))
        try:
            parsed = parse_query(text.replace("- ", "-"))
        except QuerySyntaxError:
            continue
        expected = {article for article, fields in stored.items() if matches(parsed, *fields)}
        found = {hit.article_id for hit in search_articles(db_session, parsed, limit=100)}
        assert found == expected, text
        checked += 1
    assert checked > 100


def test_chinese_and_japanese_words_are_found_inside_longer_runs(db_session: Session) -> None:
    """Neither writes spaces between words: 九州 must find 九州の大雨被害 (on both databases)."""
    flood = add_article(
        db_session, "NHK", "九州の大雨被害", "自衛隊が緊急支援を開始した。被害額は500億円。"
    )
    beijing = add_article(db_session, "Xinhua", "北京天气", "北京今天下大雨。")

    assert ids(db_session, "九州") == {flood}
    assert ids(db_session, '"緊急支援"') == {flood}
    assert ids(db_session, "大雨") == {flood, beijing}
    assert ids(db_session, "億円") == {flood}
    assert ids(db_session, "九州 NOT 北京") == {flood}


def test_an_index_written_before_cjk_words_is_rebuilt_by_the_migration(tmp_path: Path) -> None:
    from sqlalchemy import text

    from storage.migrate import upgrade_database

    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade_database(url, "0008")
    engine = make_engine(url)
    with Session(engine) as session, session.begin():
        session.execute(
            text("INSERT INTO outlets (id, name, created_at) VALUES (1, 'NHK', '2026-12-01')")
        )
        session.execute(
            text("INSERT INTO articles (id, outlet_id, url, title, text, authors, first_seen_at) "
                 "VALUES (1, 1, 'https://nhk.example/1', '九州の大雨被害', '被害額は500億円。', "
                 "'[]', '2026-12-01')")
        )  # fmt: skip
        session.execute(text("INSERT INTO article_fts (rowid, title, body) "
                             "VALUES (1, '九州の大雨被害', '被害額は500億円')"))  # fmt: skip
    upgrade_database(url)
    with Session(engine) as session:
        assert ids(session, "九州") == {1}
        assert ids(session, "大雨 億円") == {1}
    engine.dispose()
