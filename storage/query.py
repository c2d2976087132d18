"""The search query language: parse what the user typed, render it for FTS5, PostgreSQL or Python.

Words are ANDed; ``"exact phrase"``; ``AND``/``OR``/``NOT`` in capitals (and ``-word``);
parentheses; ``word*`` for a prefix. Precedence: NOT > AND > OR. Case- and accent-insensitive.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import TypeAlias


class QuerySyntaxError(ValueError):
    """The query cannot be used; the message is one line meant for the user."""


@dataclass(frozen=True, slots=True)
class Term:
    """One folded word; with ``prefix``, any word starting with it."""

    text: str
    prefix: bool = False


@dataclass(frozen=True, slots=True)
class Phrase:
    """Folded words that must appear next to each other; ``prefix`` applies to the last one."""

    words: tuple[str, ...]
    prefix: bool = False


@dataclass(frozen=True, slots=True)
class And:
    parts: tuple[Query, ...]


@dataclass(frozen=True, slots=True)
class Or:
    parts: tuple[Query, ...]


@dataclass(frozen=True, slots=True)
class Not:
    part: Query


Query: TypeAlias = Term | Phrase | And | Or | Not

# ---------------------------------------------------------------------------------------------
# Folding and tokenisation: the one definition of a "word", shared by the index and the queries.

# Chinese and Japanese write words without spaces: each ideograph or kana is a word of its own
# (a query of several is then a phrase of adjacent ones, so 九州 finds 九州の大雨), as the
# extractor counts them. Other words are runs of Unicode letters and digits.
CJK_CHARS = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f"
_WORD = re.compile(f"[{CJK_CHARS}]|[^\\W_{CJK_CHARS}]+")
_DROPPED_CATEGORIES = frozenset({"Mn", "Me", "Cf"})  # accents, soft hyphens, joiners
_SPACE_LIKE = frozenset({"\u200b"})  # zero-width space separates words in some scripts
_MAX_DEPTH = 32  # nested groups; FTS5 and Python recursion both have limits


def _fold_char(char: str) -> str:
    # NFKD twice: casefold can produce composed or compatibility characters of its own.
    text = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", char).casefold())
    kept = []
    for c in text:
        category = unicodedata.category(c)
        if category == "Co" or c in _SPACE_LIKE:
            kept.append(" ")  # private-use glyphs (icon fonts) are not part of words
        elif category not in _DROPPED_CATEGORIES:
            kept.append(c)
    return "".join(kept)


class _FoldTable(dict[int, str]):
    """A ``str.translate`` table that folds each character the first time it is seen."""

    def __missing__(self, codepoint: int) -> str:
        folded = self[codepoint] = _fold_char(chr(codepoint))
        return folded


_FOLD_TABLE = _FoldTable()
_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]+")


def fold(text: str) -> str:
    """Lowercase (casefold) and strip diacritics after NFKD: ``"Café ÉLYSÉE"`` -> ``"cafe elysee"``.

    Folding is per character, so positions in the folded text map back to the original.
    """
    if text.isascii():
        return text.lower()
    try:  # bytes.lower() lowers ASCII only: only the (few) non-ASCII runs need the table
        lowered = text.encode("utf-8").lower().decode("utf-8")
    except UnicodeEncodeError:  # lone surrogates
        return text.translate(_FOLD_TABLE)
    return _NON_ASCII_RUN.sub(_fold_run, lowered)


def _fold_run(match: re.Match[str]) -> str:
    return match.group().translate(_FOLD_TABLE)


def words(text: str) -> list[str]:
    """The folded words of ``text``, exactly as the search index stores them."""
    return _WORD.findall(fold(text))


def word_spans(text: str) -> list[tuple[str, int, int]]:
    """Folded words with their ``(start, end)`` offsets in the original ``text`` (for snippets)."""
    if text.isascii():
        return [(m.group().lower(), m.start(), m.end()) for m in _WORD.finditer(text)]
    origin: list[int] = []
    pieces: list[str] = []
    for index, char in enumerate(text):
        folded = _FOLD_TABLE[ord(char)]
        pieces.append(folded)
        origin.extend([index] * len(folded))
    folded_text = "".join(pieces)
    return [
        (m.group(), origin[m.start()], origin[m.end() - 1] + 1) for m in _WORD.finditer(folded_text)
    ]


# ---------------------------------------------------------------------------------------------
# Lexer and parser.

_QUOTES = '"“”„«»‹›'  # English, German and French quotation marks
_OPERATORS = frozenset({"AND", "OR", "NOT"})
_STARTERS = frozenset({"TERM", "(", "NOT"})
_BARE_WORD_ENDS = frozenset("()" + _QUOTES)


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # "TERM", "(", ")", "AND", "OR" or "NOT"
    position: int  # 1-based, for error messages
    node: Term | Phrase | None = None


def _leaf(raw: str, prefix: bool) -> Term | Phrase | None:
    """A term or, when punctuation splits it (``U.S.``, ``co-op``), a phrase; None if no words."""
    found = words(raw)
    if not found:
        return None
    if len(found) == 1:
        return Term(found[0], prefix)
    return Phrase(tuple(found), prefix)


def _lex(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char.isspace():
            i += 1
        elif char in "()":
            tokens.append(_Token(char, i + 1))
            i += 1
        elif char in _QUOTES:
            i = _lex_phrase(text, i, tokens)
        elif char == "-" and i + 1 < len(text) and _starts_operand(text[i + 1]):
            tokens.append(_Token("NOT", i + 1))
            i += 1
        else:
            i = _lex_bare(text, i, tokens)
    return tokens


def _starts_operand(char: str) -> bool:
    return char in _QUOTES or char == "(" or _WORD.match(fold(char)) is not None


def _lex_phrase(text: str, start: int, tokens: list[_Token]) -> int:
    end = next((j for j in range(start + 1, len(text)) if text[j] in _QUOTES), None)
    if end is None:
        raise QuerySyntaxError(f"unterminated quote at position {start + 1}")
    after = end + 1
    while after < len(text) and text[after] == "*":
        after += 1
    tokens.append(_Token("TERM", start + 1, _leaf(text[start + 1 : end], after > end + 1)))
    return after


def _lex_bare(text: str, start: int, tokens: list[_Token]) -> int:
    end = start
    while end < len(text) and not (text[end].isspace() or text[end] in _BARE_WORD_ENDS):
        end += 1
    raw = text[start:end]
    if raw in _OPERATORS:
        tokens.append(_Token(raw, start + 1))
    else:
        tokens.append(_Token("TERM", start + 1, _leaf(raw, raw.endswith("*"))))
    return end


class _Parser:
    """Recursive descent: or_expr := and_expr (OR and_expr)*; and_expr := unary ([AND] unary)*."""

    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.index = 0
        self.depth = 0

    def peek(self) -> _Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def parse(self) -> Query:
        node = self.or_expr()
        leftover = self.peek()
        if leftover is not None:  # only a ")" without its "(" can be left over
            raise QuerySyntaxError(f"unbalanced parenthesis at position {leftover.position}")
        return node

    def need_operand(self, operator: _Token, problem: str) -> None:
        following = self.peek()
        if following is None or following.kind not in _STARTERS:
            raise QuerySyntaxError(f"{operator.kind} at position {operator.position} {problem}")

    def or_expr(self) -> Query:
        parts = [self.and_expr()]
        while (token := self.peek()) is not None and token.kind == "OR":
            self.need_operand(self.take(), "needs a term on each side")
            parts.append(self.and_expr())
        return _combine(Or, parts)

    def and_expr(self) -> Query:
        parts = [self.unary()]
        while (token := self.peek()) is not None and (
            token.kind == "AND" or token.kind in _STARTERS
        ):
            if token.kind == "AND":
                self.need_operand(self.take(), "needs a term on each side")
            parts.append(self.unary())
        return _combine(And, parts)

    def unary(self) -> Query:
        negations = 0  # a loop, not recursion: "NOT NOT NOT ..." must not exhaust the stack
        while (token := self.peek()) is not None and token.kind == "NOT":
            self.need_operand(self.take(), "needs something to exclude")
            negations += 1
        node = self.atom()
        return _negate(node) if negations % 2 else node

    def atom(self) -> Query:
        token = self.peek()
        if token is None:  # unreachable: every operator checks for its operand
            raise QuerySyntaxError("query ends too early")
        if token.kind == "(":
            return self.group()
        if token.kind == ")":
            raise QuerySyntaxError(f"unbalanced parenthesis at position {token.position}")
        if token.kind != "TERM":  # AND or OR where a term should be
            problem = "needs a term on each side"
            raise QuerySyntaxError(f"{token.kind} at position {token.position} {problem}")
        self.take()
        assert token.node is not None  # empty terms are dropped before parsing
        return token.node

    def group(self) -> Query:
        opening = self.take()
        following = self.peek()
        if following is None:
            raise QuerySyntaxError(f"unbalanced parenthesis at position {opening.position}")
        if following.kind == ")":
            raise QuerySyntaxError(f"empty parentheses at position {opening.position}")
        self.depth += 1
        if self.depth > _MAX_DEPTH:
            raise QuerySyntaxError(f"more than {_MAX_DEPTH} nested parentheses")
        node = self.or_expr()
        self.depth -= 1
        closing = self.peek()
        if closing is None or closing.kind != ")":
            raise QuerySyntaxError(f"unbalanced parenthesis at position {opening.position}")
        self.take()
        return node


def _combine(kind: type[And] | type[Or], parts: list[Query]) -> Query:
    """Flatten nested ANDs (or ORs) so renderers see one level per operator."""
    flat: list[Query] = []
    for part in parts:
        flat.extend(part.parts if isinstance(part, kind) else (part,))
    return flat[0] if len(flat) == 1 else kind(tuple(flat))


def _negate(node: Query) -> Query:
    return node.part if isinstance(node, Not) else Not(node)


def parse_query(text: str) -> Query:
    """Parse the user's query.

    Args:
        text: e.g. ``'"dissent memo" OR ("State Department" AND ceasefire)'``.

    Returns:
        The query tree, with every word folded.

    Raises:
        QuerySyntaxError: with a one-line message (positions are 1-based characters).
    """
    if not text.strip():
        raise QuerySyntaxError("empty query")
    # Punctuation-only terms ("&", "--") are dropped, as the index would drop them.
    tokens = [token for token in _lex(text) if token.kind != "TERM" or token.node is not None]
    if not tokens:
        raise QuerySyntaxError("the query has no words to search for, only punctuation")
    query = _Parser(tokens).parse()
    _validate(query)
    return query


def _is_positive(node: Query) -> bool:
    """Whether ``node`` can select documents by itself (FTS5 has no unary NOT)."""
    if isinstance(node, Not):
        return False
    if isinstance(node, And):
        return any(_is_positive(part) for part in node.parts)
    if isinstance(node, Or):
        return all(_is_positive(part) for part in node.parts)
    return True


def _validate(node: Query, where: str = "a query") -> None:
    """Reject pure negations: "everything except X" cannot use the index and is never a story."""
    for part in node.parts if isinstance(node, And | Or) else ():
        if isinstance(node, Or):
            _validate(part, "an OR alternative")
        elif isinstance(part, Not):
            _validate(part.part, "a NOT group")
        else:
            _validate(part, where)
    if not _is_positive(node):
        raise QuerySyntaxError(f"{where} cannot consist only of NOT terms")


def _leaf_words(node: Term | Phrase) -> tuple[str, ...]:
    """The leaf's words re-tokenised, so hand-built ``Term("U.S.")`` behaves like a parsed one."""
    found = tuple(words(node.text) if isinstance(node, Term) else words(" ".join(node.words)))
    if not found:
        raise QuerySyntaxError("a search term needs at least one letter or digit")
    return found


# ---------------------------------------------------------------------------------------------
# Renderers: FTS5, PostgreSQL tsquery, Python.


def to_fts5(query: Query) -> str:
    """An FTS5 MATCH expression; every word is quoted, so no user input is FTS5 syntax."""
    _validate(query)
    return _fts5(query)


def _fts5(node: Query) -> str:
    if isinstance(node, Term | Phrase):
        quoted = '"' + " ".join(_leaf_words(node)).replace('"', '""') + '"'
        return quoted + "*" if node.prefix else quoted
    if isinstance(node, Or):
        return "(" + " OR ".join(_fts5(part) for part in node.parts) + ")"
    if isinstance(node, And):
        positive = " AND ".join(_fts5(p) for p in node.parts if not isinstance(p, Not))
        negative = "".join(f" NOT {_fts5(p.part)}" for p in node.parts if isinstance(p, Not))
        return f"(({positive}){negative})" if negative else f"({positive})"
    raise QuerySyntaxError("a query cannot consist only of NOT terms")  # excluded by _validate


_TSQUERY_MAX_WORD_BYTES = 2047  # PostgreSQL's limit for one lexeme


def to_tsquery(query: Query) -> str:
    """A PostgreSQL tsquery string (``&``, ``|``, ``!``, ``<->``, ``:*``) of quoted folded words.

    Valid input for ``to_tsquery('simple', ...)``; the search casts it with ``::tsquery`` instead,
    so PostgreSQL's parser cannot split a word differently from the index (``2e3i``).
    """
    _validate(query)
    return _tsquery(query)


def _tsquery_word(word: str) -> str:
    if len(word.encode()) > _TSQUERY_MAX_WORD_BYTES:
        raise QuerySyntaxError(f"the word {word[:20]!r}… is too long to search for")
    return "'" + word.replace("\\", "\\\\").replace("'", "''") + "'"


def _tsquery(node: Query) -> str:
    if isinstance(node, Term | Phrase):
        rendered = [_tsquery_word(word) for word in _leaf_words(node)]
        if node.prefix:
            rendered[-1] += ":*"
        return rendered[0] if len(rendered) == 1 else "(" + " <-> ".join(rendered) + ")"
    if isinstance(node, Not):
        return "!" + _tsquery(node.part)
    operator = " & " if isinstance(node, And) else " | "
    return "(" + operator.join(_tsquery(part) for part in node.parts) + ")"


def matches(query: Query, text: str, *more: str) -> bool:
    """Evaluate ``query`` in Python, with the index's tokenisation and folding.

    Args:
        query: a parsed query.
        text: e.g. an article's title and text joined by a newline.
        more: further fields; pass ``title, text`` separately to match the index exactly, where
            a phrase never spans the title and the body.
    """
    _validate(query)
    return _evaluate(query, _Document([words(field) for field in (text, *more)]))


class _Document:
    """The words of each field plus their union, so leaves are checked without rescanning."""

    def __init__(self, fields: list[list[str]]) -> None:
        self.fields = fields
        self.vocabulary = frozenset(word for field in fields for word in field)

    def has_word(self, word: str, prefix: bool) -> bool:
        if prefix:
            return any(candidate.startswith(word) for candidate in self.vocabulary)
        return word in self.vocabulary

    def has_phrase(self, phrase: tuple[str, ...], prefix: bool) -> bool:
        *head, last = phrase
        if not all(word in self.vocabulary for word in head):
            return False
        size = len(phrase)
        for field in self.fields:
            for i in range(len(field) - size + 1):
                candidate = field[i + size - 1]
                tail_ok = candidate.startswith(last) if prefix else candidate == last
                if tail_ok and field[i : i + size - 1] == head:
                    return True
        return False


def _evaluate(node: Query, document: _Document) -> bool:
    if isinstance(node, Term | Phrase):
        found = _leaf_words(node)
        if len(found) == 1:
            return document.has_word(found[0], node.prefix)
        return document.has_phrase(found, node.prefix)
    if isinstance(node, Not):
        return not _evaluate(node.part, document)
    if isinstance(node, And):
        return all(_evaluate(part, document) for part in node.parts)
    return any(_evaluate(part, document) for part in node.parts)


def highlight_words(query: Query) -> tuple[frozenset[str], tuple[str, ...]]:
    """Words and word prefixes worth highlighting in a snippet (those not under a NOT)."""
    exact: set[str] = set()
    prefixes: list[str] = []
    pending: list[Query] = [query]
    while pending:
        node = pending.pop()
        if isinstance(node, And | Or):
            pending.extend(node.parts)
        elif isinstance(node, Term | Phrase):
            *head, last = _leaf_words(node)
            exact.update(head)
            if node.prefix:
                prefixes.append(last)
            else:
                exact.add(last)
    return frozenset(exact), tuple(prefixes)
