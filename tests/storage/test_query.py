"""The query language: parsing, folding, and rendering for FTS5, PostgreSQL and Python."""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Iterator

import pytest

from storage.query import (
    And,
    Not,
    Or,
    Phrase,
    Query,
    QuerySyntaxError,
    Term,
    fold,
    highlight_words,
    matches,
    parse_query,
    to_fts5,
    to_tsquery,
    word_spans,
    words,
)

a, b, c = Term("a"), Term("b"), Term("c")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a b c", And((a, b, c))),
        ("a AND b AND c", And((a, b, c))),
        ("a OR b c", Or((a, And((b, c))))),
        ("a b OR c", Or((And((a, b)), c))),
        ("a OR b AND c", Or((a, And((b, c))))),
        ("(a OR b) c", And((Or((a, b)), c))),
        ("a NOT b OR c", Or((And((a, Not(b))), c))),
        ("NOT b a", And((Not(b), a))),
        ("a -b", And((a, Not(b)))),
        ("a -(b OR c)", And((a, Not(Or((b, c)))))),
        ('a -"b c"', And((a, Not(Phrase(("b", "c")))))),
        ("a NOT NOT b", And((a, b))),
        ("((a))", a),
    ],
)
def test_precedence(text: str, expected: Query) -> None:
    assert parse_query(text) == expected


def test_example_from_the_docs() -> None:
    query = parse_query('"dissent memo" OR ("State Department" AND ceasefire)')

    assert query == Or(
        (Phrase(("dissent", "memo")), And((Phrase(("state", "department")), Term("ceasefire"))))
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('"exact phrase"', Phrase(("exact", "phrase"))),
        ('"single"', Term("single")),
        ("“curly quotes”", Phrase(("curly", "quotes"))),
        ("U.S.", Phrase(("u", "s"))),
        ("co-op", Phrase(("co", "op"))),
        ("don't", Phrase(("don", "t"))),
        ("cease*", Term("cease", prefix=True)),
        ('"dissent mem"*', Phrase(("dissent", "mem"), prefix=True)),
        ("co-op*", Phrase(("co", "op"), prefix=True)),
    ],
)
def test_phrases_and_prefixes(text: str, expected: Query) -> None:
    assert parse_query(text) == expected


@pytest.mark.parametrize("word", ["and", "or", "not", "And", "Or", "nOT", "near", "NEAR"])
def test_only_capital_operators_are_operators(word: str) -> None:
    assert parse_query(f"war {word} peace") == And((Term("war"), Term(fold(word)), Term("peace")))


def test_punctuation_only_words_are_ignored() -> None:
    assert parse_query("gaza & hamas -- *") == And((Term("gaza"), Term("hamas")))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty query"),
        ("   ", "empty query"),
        ("& | --", "the query has no words to search for, only punctuation"),
        ('"', "unterminated quote at position 1"),
        ('gaza "dissent memo', "unterminated quote at position 6"),
        ("(gaza", "unbalanced parenthesis at position 1"),
        ("gaza)", "unbalanced parenthesis at position 5"),
        ("(a OR b) c) d", "unbalanced parenthesis at position 11"),
        ("a (b (c)", "unbalanced parenthesis at position 3"),
        ("()", "empty parentheses at position 1"),
        ("gaza NOT", "NOT at position 6 needs something to exclude"),
        ("NOT", "NOT at position 1 needs something to exclude"),
        ("a AND", "AND at position 3 needs a term on each side"),
        ("OR a", "OR at position 1 needs a term on each side"),
        ("a OR OR b", "OR at position 3 needs a term on each side"),
        ("a AND OR b", "AND at position 3 needs a term on each side"),
        ("(a OR) b", "OR at position 4 needs a term on each side"),
        ("NOT gaza", "a query cannot consist only of NOT terms"),
        ("-gaza -hamas", "a query cannot consist only of NOT terms"),
        ("gaza OR NOT hamas", "an OR alternative cannot consist only of NOT terms"),
        ("a NOT (NOT b NOT c)", "a NOT group cannot consist only of NOT terms"),
        ("(" * 40 + "a" + ")" * 40, "more than 32 nested parentheses"),
    ],
)
def test_syntax_errors_have_one_clear_line(text: str, message: str) -> None:
    with pytest.raises(QuerySyntaxError) as raised:
        parse_query(text)

    assert str(raised.value) == message


def test_long_not_chains_do_not_exhaust_the_stack() -> None:
    assert parse_query("a " + "NOT " * 5000 + "b") == And((a, b))
    assert parse_query("a " + "NOT " * 5001 + "b") == And((a, Not(b)))


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Café ÉLYSÉE", "cafe elysee"),
        ("Straße", "strasse"),
        ("Αθήνα", "αθηνα"),
        ("ﬁnance", "finance"),  # ligature
        ("Ｆｕｌｌ", "full"),  # full-width
        ("Ge\u00adschich\u00adte", "geschichte"),  # soft hyphens
        ("cafe\u0301", "cafe"),  # decomposed accent
        ("İstanbul", "istanbul"),
    ],
)
def test_fold(text: str, folded: str) -> None:
    assert fold(text) == folded
    assert fold(folded) == folded


def test_words_and_spans_agree_and_point_into_the_original() -> None:
    text = "Le Café d'Ge\u00adschich\u00adte: U.S.-Straße ﬁnance 2e3f"

    spans = word_spans(text)

    assert [word for word, _, _ in spans] == words(text)
    assert words(text) == ["le", "cafe", "d", "geschichte", "u", "s", "strasse", "finance", "2e3f"]
    assert [text[start:end] for _, start, end in spans][:4] == [
        "Le",
        "Café",
        "d",
        "Ge\u00adschich\u00adte",
    ]


def test_accents_and_case_are_folded_in_queries() -> None:
    assert parse_query("CAFÉ Élysée*") == And((Term("cafe"), Term("elysee", prefix=True)))


@pytest.mark.parametrize(
    ("text", "fts5"),
    [
        ("gaza", '"gaza"'),
        ("cease*", '"cease"*'),
        ('"dissent memo"', '"dissent memo"'),
        ("a b OR c", '(("a" AND "b") OR "c")'),
        ("gaza NOT hamas", '(("gaza") NOT "hamas")'),
        ("NOT hamas gaza", '(("gaza") NOT "hamas")'),
        ("a b -c -d", '(("a" AND "b") NOT "c" NOT "d")'),
        ("a NOT (b OR c)", '(("a") NOT ("b" OR "c"))'),
        ('NEAR("a b") x:y ^z', '("near" AND "a b" AND "x y" AND "z")'),
    ],
)
def test_to_fts5(text: str, fts5: str) -> None:
    assert to_fts5(parse_query(text)) == fts5


@pytest.mark.parametrize(
    ("text", "tsquery"),
    [
        ("gaza", "'gaza'"),
        ("cease*", "'cease':*"),
        ('"dissent mem"*', "('dissent' <-> 'mem':*)"),
        ("a b OR c", "(('a' & 'b') | 'c')"),
        ("gaza NOT hamas", "('gaza' & !'hamas')"),
        ('a -"b c"', "('a' & !('b' <-> 'c'))"),
        ("Café", "'cafe'"),
    ],
)
def test_to_tsquery(text: str, tsquery: str) -> None:
    assert to_tsquery(parse_query(text)) == tsquery


def test_renderers_escape_hand_built_terms() -> None:
    assert to_fts5(Term('say "hi"')) == '"say hi"'
    assert to_tsquery(Term("it's")) == "('it' <-> 's')"
    with pytest.raises(QuerySyntaxError):
        to_fts5(Term("***"))


def test_renderers_refuse_a_pure_negation() -> None:
    for render in (to_fts5, to_tsquery):
        with pytest.raises(QuerySyntaxError, match="only of NOT terms"):
            render(Not(Term("hamas")))


@pytest.fixture
def fts5() -> Iterator[sqlite3.Connection]:
    """An FTS5 table like the migration's, holding words as the index stores them."""
    connection = sqlite3.connect(":memory:")
    connection.execute(
        "CREATE VIRTUAL TABLE article_fts USING fts5("
        "title, body, tokenize = 'unicode61 remove_diacritics 2')"
    )
    connection.execute(
        "INSERT INTO article_fts (rowid, title, body) VALUES (1, ?, ?)",
        (" ".join(words("NEAR the co-op")), " ".join(words('a "quoted" x:y ^z'))),
    )
    yield connection
    connection.close()


NASTY_WORDS = (
    '" "" * **a a** : a:b ^a - --a + NEAR NEAR(a near/3 {a b} ( ) \' \\ a\'b a"b !a & | <-> a:* '
    "title:x \x00 😀 a-b-c* AND OR NOT"
).split()
NASTY = [*NASTY_WORDS, "NEAR(a b)", "a AND", "a & b", "a <-> b", "- a", "a -", "AND OR NOT", ""]


@pytest.mark.parametrize("text", NASTY)
def test_fts5_special_characters_never_break_match(fts5: sqlite3.Connection, text: str) -> None:
    try:
        expression = to_fts5(parse_query(text))
    except QuerySyntaxError:
        return
    fts5.execute("SELECT rowid FROM article_fts WHERE article_fts MATCH ?", (expression,))


def test_random_queries_parse_or_fail_cleanly(fts5: sqlite3.Connection) -> None:
    pieces = [
        "gaza",
        "AND",
        "OR",
        "NOT",
        "(",
        ")",
        '"',
        "-",
        "*",
        ":",
        "^",
        "NEAR",
        "and",
        "+",
        "x:y",
    ]
    rng = random.Random(20240501)
    for _ in range(2000):
        text = "".join(rng.choice(pieces) + rng.choice(["", " "]) for _ in range(rng.randint(1, 8)))
        try:
            query = parse_query(text)
        except QuerySyntaxError:
            continue
        fts5.execute("SELECT rowid FROM article_fts WHERE article_fts MATCH ?", (to_fts5(query),))
        to_tsquery(query)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("gaza", True),
        ("GAZA", True),
        ("gáza", True),
        ('"ceasefire talks"', True),
        ('"talks ceasefire"', False),
        ("ceasefire cairo", True),
        ("cease*", True),
        ("ceasefires*", False),
        ('"ceasefire tal"*', True),
        ("gaza NOT hamas", False),
        ("gaza NOT israel", True),
        ("israel OR cairo", True),
        ("israel OR egypt", False),
        ("u.s.", True),
        ("us", False),
        ('"resume negotiators"', False),  # the title and the text are separate fields
    ],
)
def test_matches(text: str, expected: bool) -> None:
    title = "Gaza ceasefire talks resume"
    body = "Negotiators met in Cairo; Hamas answered the U.S. proposal."

    assert matches(parse_query(text), title, body) is expected


def test_matches_on_one_string_lets_phrases_cross_the_join() -> None:
    query = parse_query('"resume negotiators"')

    assert matches(query, "Gaza talks resume\nNegotiators met")
    assert not matches(query, "Gaza talks resume", "Negotiators met")


def test_highlight_words_skip_negated_terms() -> None:
    query = parse_query('"dissent memo" cease* NOT hamas')

    assert highlight_words(query) == (frozenset({"dissent", "memo"}), ("cease",))


def test_fold_is_the_per_character_table_on_mixed_text() -> None:
    """``fold`` lowers ASCII in bulk and folds only the non-ASCII runs: same as char by char."""
    text = "“ÉLYSÉE” — Ａ CAFÉ\tZ\x00 naïve Straße ﬁ 東京 \U0001f600 İ end"
    assert fold(text) == "".join(fold(char) for char in text)
    assert fold("bad \ud800 surrogate É") == "bad \ud800 surrogate e"
