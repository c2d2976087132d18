"""Word-level diffs between two versions of an article, with a change summary and edit labels.

Both sides are compared after ``normalise_text`` (the same rule that decides whether a version is
new), so typographic quotes, dashes and spacing never show up as edits. Rendering lives in
``pipeline.diffrender``. Word counts and all labels but "headline" and "authors" look at the body.

Label rules (a change may carry several; they are listed in this order):

- ``headline``: the normalised title differs.
- ``correction``: a deletion directly followed by an insertion, at most 6 words on each side, where
  either side holds a token with a digit or a Capitalised word that does not start a sentence
  (a death toll 12 -> 15, a misspelt or wrong name). Body only: headlines are often Title Case.
- ``update``: insertions after the last unchanged stretch of at least 8 words or one whole
  sentence, or an inserted paragraph starting "Update(d)", "Editor's note" or "Correction:".
- ``removal``: a deletion with no words inserted in its place that is 15+ words long or covers a
  whole sentence (2+ words).
- ``minor``: nothing else applies, at most 3 words changed on either side, and every change is
  punctuation/whitespace only or swaps words for near-identical ones, ignoring case (difflib
  ratio >= 0.8, or two adjacent letters swapped), e.g. "goverment" -> "government", "teh" -> "the".
- ``authors``: the normalised byline differs.
"""

from __future__ import annotations

import difflib
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from diff_match_patch import diff_match_patch

from pipeline.versions import normalise_text
from pipeline.words import TOKEN_RE, WORD_RE, count_words

# diff_main stops refining after this many seconds and returns a coarser (still correct) diff.
# Edited 2,000-word articles take 5-20 ms; unrelated ones hit the cap, ~55 ms in all (< 100 ms).
DIFF_TIMEOUT = 1.0  # seconds; generous so results do not depend on machine load
MAX_CORRECTION_WORDS = 6
MIN_UPDATE_WORDS = 8
MIN_REMOVAL_WORDS = 15
MAX_MINOR_WORDS = 3
MIN_TYPO_RATIO = 0.8

LABELS = (
    "headline",
    "correction",
    "update",
    "removal",
    "moved",
    "minor",
    "edited",
    "authors",
)  # display order

Op = tuple[str, str]

_OP_NAMES = {
    diff_match_patch.DIFF_EQUAL: "equal",
    diff_match_patch.DIFF_INSERT: "insert",
    diff_match_patch.DIFF_DELETE: "delete",
}
# A paragraph that opens as an update or correction note, in the languages newsrooms use most.
_NOTE = re.compile(
    r"^(?:updated?\b|editor'?s'? note\b|correction\s*:"
    r"|(?:aktualisierung|korrektur|anmerkung der redaktion|nachtrag)\b"  # de
    r"|(?:mise à jour|maj|note de la rédaction|rectificatif|correctif)\b"  # fr
    r"|(?:actualización|corrección|nota del editor|nota de la redacción|fe de errores)\b"  # es
    r"|(?:aggiornamento|correzione|nota della redazione)\b"  # it
    r"|(?:atualização|correção|nota do editor|nota da redação)\b"  # pt
    r"|(?:correctie|naschrift)\b"  # nl
    r"|(?:追記|更新|訂正|更正|编者按|編者注)\s*[:：])",  # ja, zh
    re.IGNORECASE | re.MULTILINE,
)
# A sentence ends at . ! ? before a space, at a CJK full stop (no space follows one), or at the
# end of its paragraph.
_SENTENCE = re.compile(r"\S[^\n]*?(?:[.!?]+[\"')\]]*(?=\s|\Z)|[。！？]+[」』）]*|(?=\n)|\Z)")
_BEFORE_SENTENCE = " \"'(["  # opening quotes and brackets may precede a sentence's first word


@dataclass(frozen=True)
class VersionText:
    """One side of a comparison: what the caller has stored for a version."""

    title: str
    text: str
    authors: tuple[str, ...] = ()


@dataclass(frozen=True)
class ChangeSummary:
    """What is stored with each version so listings and queries need no diff."""

    words_added: int
    words_removed: int
    title_changed: bool
    authors_changed: bool
    labels: tuple[str, ...]


@dataclass(frozen=True)
class ArticleDiff:
    """Title and body ops as ``(op, text)`` pairs, op being "equal", "insert" or "delete".

    The text is normalised (plain quotes and dashes, single spaces); "\\n" separates paragraphs.
    """

    title_ops: list[Op]
    text_ops: list[Op]
    summary: ChangeSummary
    old_authors: tuple[str, ...] = ()
    new_authors: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Hunk:
    """Consecutive changed ops between two unchanged stretches, with offsets for context."""

    deleted: str
    inserted: str
    old_start: int
    new_start: int
    trailing: bool


def diff_versions(old: VersionText, new: VersionText) -> ArticleDiff:
    """Diff title and body word by word and summarise the change.

    Args:
        old: The earlier version.
        new: The later version.

    Returns:
        The ops of both title and body (normalised text) and the change summary.
    """
    title_ops = word_diff(old.title, new.title)
    text_ops = word_diff(old.text, new.text)
    summary = _summarise(old, new, text_ops)
    return ArticleDiff(title_ops, text_ops, summary, tuple(old.authors), tuple(new.authors))


def summarise_change(old: VersionText, new: VersionText) -> ChangeSummary:
    """The summary alone: the cheap path run for every stored version (no title diff).

    Args:
        old: The earlier version.
        new: The later version.

    Returns:
        Word counts, title/author flags and labels.
    """
    return _summarise(old, new, word_diff(old.text, new.text))


def word_diff(old: str, new: str) -> list[Op]:
    """Word-level diff of two texts, after ``normalise_text``, with diff-match-patch's cleanup.

    Each distinct token (word, whitespace run, punctuation mark) becomes one character, as
    ``diff_linesToChars`` does for lines, so the character diff is a token diff. Single
    whitespace characters stand for themselves, which lets the semantic cleanup prefer edits that
    start and end at spaces and paragraph breaks.
    """
    old, new = normalise_text(old), normalise_text(new)
    if old == new:
        return [("equal", old)] if old else []
    tokens: dict[str, str] = {}
    chars: dict[str, str] = {}
    free = _token_chars()

    def encode(text: str) -> str:
        out = []
        for token in TOKEN_RE.findall(text):
            char = tokens.get(token)
            if char is None:
                char = token if len(token) == 1 and token.isspace() else next(free)
                tokens[token] = char
                chars[char] = token
            out.append(char)
        return "".join(out)

    dmp = diff_match_patch()
    dmp.Diff_Timeout = DIFF_TIMEOUT
    # checklines=False: a paragraph pre-pass measured no faster on token strings and coarser.
    diffs = dmp.diff_main(encode(old), encode(new), False)
    dmp.diff_cleanupSemantic(diffs)
    return [(_OP_NAMES[op], "".join(chars[c] for c in text)) for op, text in diffs if text]


def _token_chars() -> Iterator[str]:
    """Characters to stand for tokens: past Latin-1, never whitespace, never a surrogate."""
    for code in range(0x100, sys.maxunicode + 1):
        if not 0xD800 <= code <= 0xDFFF and not chr(code).isspace():
            yield chr(code)


def _summarise(old: VersionText, new: VersionText, text_ops: list[Op]) -> ChangeSummary:
    hunks = list(_hunks(text_ops))
    added = sum(count_words(h.inserted) for h in hunks)
    removed = sum(count_words(h.deleted) for h in hunks)
    title_changed = normalise_text(old.title) != normalise_text(new.title)
    authors_changed = _authors(old.authors) != _authors(new.authors)
    old_text, new_text = old_side(text_ops), new_side(text_ops)
    moved = _moved_passages(hunks)
    flags = {
        "headline": title_changed,
        "correction": any(_is_correction(h, old_text, new_text) for h in hunks),
        "update": any(_is_update(h) for h in hunks if _residue(h.inserted, moved))
        or _has_inserted_note(text_ops, new_text),
        "removal": any(_is_removal(h, old_text) for h in hunks if _residue(h.deleted, moved)),
        "moved": bool(moved),
        "authors": authors_changed,
    }
    flags["minor"] = (
        bool(hunks)
        and not any(flags.values())
        and max(added, removed) <= MAX_MINOR_WORDS
        and all(_is_typo_level(h) for h in hunks)
    )
    text_labels = ("correction", "update", "removal", "moved", "minor")
    # words changed that no rule above names: say so, rather than "none" (no change)
    flags["edited"] = bool(hunks) and not any(flags[label] for label in text_labels)
    labels = tuple(label for label in LABELS if flags[label])
    return ChangeSummary(added, removed, title_changed, authors_changed, labels)


def _authors(authors: Iterable[str]) -> tuple[str, ...]:
    return tuple(name for name in map(normalise_text, authors) if name)


def old_side(ops: list[Op]) -> str:
    """The (normalised) old text rebuilt from the ops."""
    return "".join(text for op, text in ops if op != "insert")


def new_side(ops: list[Op]) -> str:
    """The (normalised) new text rebuilt from the ops."""
    return "".join(text for op, text in ops if op != "delete")


def _hunks(ops: list[Op]) -> Iterable[_Hunk]:
    old_pos = new_pos = 0
    deleted: list[str] = []
    inserted: list[str] = []
    start = (0, 0)
    for i, (op, text) in enumerate([*ops, ("equal", "")]):
        if op != "equal":
            if not deleted and not inserted:
                start = (old_pos, new_pos)
            (deleted if op == "delete" else inserted).append(text)
        elif deleted or inserted:
            trailing = i == len(ops)
            yield _Hunk("".join(deleted), "".join(inserted), *start, trailing=trailing)
            deleted, inserted = [], []
        old_pos += len(text) if op != "insert" else 0
        new_pos += len(text) if op != "delete" else 0


def _is_correction(hunk: _Hunk, old_text: str, new_text: str) -> bool:
    del_words, ins_words = count_words(hunk.deleted), count_words(hunk.inserted)
    if not (1 <= del_words <= MAX_CORRECTION_WORDS and 1 <= ins_words <= MAX_CORRECTION_WORDS):
        return False
    return _has_number_or_name(hunk.deleted, old_text, hunk.old_start) or _has_number_or_name(
        hunk.inserted, new_text, hunk.new_start
    )


def _has_number_or_name(span: str, full: str, offset: int) -> bool:
    for match in WORD_RE.finditer(span):
        word = match.group()
        if any(c.isdigit() for c in word):
            return True
        if word[0].isupper() and not _starts_sentence(full, offset + match.start()):
            return True
    return False


def _starts_sentence(text: str, pos: int) -> bool:
    before = text[:pos].rstrip(_BEFORE_SENTENCE)
    return not before or before[-1] in ".!?\n。！？"


def _is_update(hunk: _Hunk) -> bool:
    if not hunk.trailing or not hunk.inserted.strip():
        return False
    return count_words(hunk.inserted) >= MIN_UPDATE_WORDS or _covers_sentence(
        hunk.inserted, 0, len(hunk.inserted)
    )


def _has_inserted_note(ops: list[Op], new_text: str) -> bool:
    """True when a paragraph opening with an update/correction marker starts inside an insert."""
    inserted: list[tuple[int, int]] = []
    pos = 0
    for op, text in ops:
        if op == "insert":
            inserted.append((pos, pos + len(text)))
        if op != "delete":
            pos += len(text)
    return any(
        start <= match.start() < end
        for match in _NOTE.finditer(new_text)
        for start, end in inserted
    )


def _moved_passages(hunks: list[_Hunk]) -> set[str]:
    """Paragraphs of at least ``MIN_REMOVAL_WORDS`` words deleted in one place and inserted,
    word for word, in another: moved, not removed and added."""
    deleted = {key for h in hunks for key in _paragraph_keys(h.deleted)}
    inserted = {key for h in hunks for key in _paragraph_keys(h.inserted)}
    return {key for key in deleted & inserted if len(key.split()) >= MIN_REMOVAL_WORDS}


def _residue(text: str, moved: set[str]) -> bool:
    """Whether ``text`` (a hunk's side) holds words outside the moved paragraphs."""
    return any(key and key not in moved for key in _paragraph_keys(text))


def _paragraph_keys(text: str) -> list[str]:
    return [" ".join(WORD_RE.findall(line.casefold())) for line in text.splitlines()]


def _is_removal(hunk: _Hunk, old_text: str) -> bool:
    if not hunk.deleted or count_words(hunk.inserted):
        return False
    if count_words(hunk.deleted) >= MIN_REMOVAL_WORDS:
        return True
    return _covers_sentence(old_text, hunk.old_start, hunk.old_start + len(hunk.deleted))


def _covers_sentence(text: str, start: int, end: int) -> bool:
    """Whether text[start:end] holds a whole sentence of two or more words."""
    for match in _SENTENCE.finditer(text, text.rfind("\n", 0, start) + 1):
        if match.start() >= end:
            break
        if match.start() >= start and match.end() <= end and count_words(match.group()) >= 2:
            return True
    return False


def _is_typo_level(hunk: _Hunk) -> bool:
    old_words, new_words = WORD_RE.findall(hunk.deleted), WORD_RE.findall(hunk.inserted)
    if len(old_words) != len(new_words):
        return False
    return all(_is_typo(a, b) for a, b in zip(old_words, new_words, strict=True))


def _is_typo(old: str, new: str) -> bool:
    old, new = old.lower(), new.lower()
    return difflib.SequenceMatcher(None, old, new).ratio() >= MIN_TYPO_RATIO or _is_swap(old, new)


def _is_swap(a: str, b: str) -> bool:
    """Two adjacent letters swapped ("teh" -> "the"), which the ratio scores low in short words."""
    if len(a) != len(b):
        return False
    diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
    if len(diff) != 2 or diff[1] != diff[0] + 1:
        return False
    i, j = diff
    return a[i] == b[j] and a[j] == b[i]
