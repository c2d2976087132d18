"""Output formats of an article diff: terminal text, an HTML fragment and JSON-ready data.

Kept apart from ``pipeline.diffs`` so what counts as a change and how it is shown change
separately. Paragraphs are the ``\\n`` in the ops; a change that only adds or removes a paragraph
break is shown as a pilcrow (¶).
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

from pipeline.diffs import old_side
from pipeline.words import WORD_BREAK_RE, WORD_RE, is_cjk

if TYPE_CHECKING:
    from pipeline.diffs import ArticleDiff, ChangeSummary, Op

_PLAIN = {"delete": ("[-", "-]"), "insert": ("{+", "+}")}
# Deletions red and struck through (readable without colour vision), insertions green.
_ANSI = {"delete": ("\x1b[9;31m", "\x1b[0m"), "insert": ("\x1b[32m", "\x1b[0m")}
_HTML = {"delete": ("<del>", "</del>"), "insert": ("<ins>", "</ins>")}
_ELLIPSIS = "…"
_CJK_CLOSING = "。、，．！？」』）】"  # end a CJK clause: a kept tail starts after them
_STYLE = (
    ".newsmon-diff del{background:#fdd;color:#900}"
    ".newsmon-diff ins{background:#dfd;color:#060;text-decoration:none}"
    ".newsmon-diff-summary{color:#555}"
)


def render_text(diff: ArticleDiff, *, color: bool, context_words: int = 12) -> str:
    """Terminal view: headline line, body with marked edits, then the summary line.

    Args:
        diff: The diff to show.
        color: ANSI red/green instead of ``[-deleted-]{+inserted+}`` markers.
        context_words: Unchanged words kept on each side of an edit; longer unchanged stretches
            are cut to "…".

    Returns:
        The text, lines separated by ``\\n``, without a trailing newline.
    """
    marks = _ANSI if color else _PLAIN
    body = _render_body(diff.text_ops, marks, context_words)
    head = _headline_line(diff, marks)
    if diff.summary.authors_changed:
        head += "\n" + _byline_line(diff)
    return "\n\n".join([head, body, summary_line(diff.summary)])


def render_html(diff: ArticleDiff) -> str:
    """A self-contained HTML fragment (own ``<style>``) with ``<del>``/``<ins>``; all escaped."""
    title = "".join(_html_op(op, text) for op, text in diff.title_ops)
    paragraphs = "".join(f"<p>{p}</p>" for p in _html_paragraphs(diff.text_ops) if p)
    state = "changed" if diff.summary.title_changed else "unchanged"
    byline = ""
    if diff.summary.authors_changed:
        byline = f'<p class="newsmon-diff-note">{html.escape(_byline_line(diff))}</p>'
    return (
        f'<div class="newsmon-diff"><style>{_STYLE}</style>'
        f'<section class="newsmon-diff-headline"><h2>{title}</h2>'
        f'<p class="newsmon-diff-note">Headline {state}</p>{byline}</section>'
        f'<section class="newsmon-diff-body">{paragraphs}</section>'
        f'<p class="newsmon-diff-summary">{html.escape(summary_line(diff.summary))}</p></div>'
    )


def to_json(diff: ArticleDiff, from_number: int, to_number: int) -> dict[str, Any]:
    """JSON-ready data for ``--format json``: body ops under "ops", title ops under "title_ops".

    Args:
        diff: The diff to serialise.
        from_number: Number of the older version.
        to_number: Number of the newer version.

    Returns:
        A dict of plain lists, strings, ints and bools.
    """
    summary = diff.summary
    return {
        "from": from_number,
        "to": to_number,
        "title_changed": summary.title_changed,
        "ops": [[op, text] for op, text in diff.text_ops],
        "title_ops": [[op, text] for op, text in diff.title_ops],
        "words_added": summary.words_added,
        "words_removed": summary.words_removed,
        "labels": list(summary.labels),
        "authors_from": list(diff.old_authors),
        "authors_to": list(diff.new_authors),
    }


def summary_line(summary: ChangeSummary) -> str:
    """The closing line: "+N words, -M words; labels: a, b" (or "labels: none")."""
    labels = ", ".join(summary.labels) or "none"
    return f"+{summary.words_added} words, -{summary.words_removed} words; labels: {labels}"


def _headline_line(diff: ArticleDiff, marks: dict[str, tuple[str, str]]) -> str:
    if not diff.summary.title_changed:
        return f"Headline: {old_side(diff.title_ops)} (unchanged)"
    old = _title_side(diff.title_ops, "delete", marks)
    new = _title_side(diff.title_ops, "insert", marks)
    return f"Headline: - {old} / + {new}"


def _byline_line(diff: ArticleDiff) -> str:
    """Who the article was by, and who it is by now (bylines change without a text edit)."""
    old = ", ".join(diff.old_authors) or "(none)"
    new = ", ".join(diff.new_authors) or "(none)"
    return f"Byline: - {old} / + {new}"


def _title_side(ops: list[Op], changed: str, marks: dict[str, tuple[str, str]]) -> str:
    """One side of the headline, its own changes ("delete" or "insert") marked."""
    return "".join(
        _mark(text, marks[op]) if op == changed else text
        for op, text in ops
        if op in ("equal", changed)
    )


def _render_body(ops: list[Op], marks: dict[str, tuple[str, str]], context: int) -> str:
    if not any(op != "equal" for op, _ in ops):
        return "(no change in the text)"
    parts = []
    for i, (op, text) in enumerate(ops):
        if op == "equal":
            parts.append(_elide(text, head=i > 0, tail=i < len(ops) - 1, words=context))
        elif text.strip():
            parts.append(_mark(text, marks[op]))
        else:  # only whitespace changed: make a paragraph break visible
            pilcrow = _wrap("¶" if "\n" in text else text, marks[op])
            parts.append(pilcrow + "\n" if op == "insert" and "\n" in text else pilcrow)
    return "".join(parts)


def _mark(text: str, mark: tuple[str, str]) -> str:
    """Mark text line by line, leaving surrounding whitespace outside the marks."""
    core = text.strip()
    lead = text[: len(text) - len(text.lstrip())]
    trail = text[len(text.rstrip()) :]
    return lead + "\n".join(_wrap(line, mark) for line in core.split("\n")) + trail


def _wrap(text: str, mark: tuple[str, str]) -> str:
    return f"{mark[0]}{text}{mark[1]}" if text else ""


def _elide(text: str, *, head: bool, tail: bool, words: int) -> str:
    """Keep ``words`` words after a previous edit (head) and before the next one (tail)."""
    found = list(WORD_RE.finditer(text))
    if len(found) <= words * (head + tail):
        return text
    head_end = _word_end(text, found[words - 1].end()) if head and words else 0
    tail_start = found[-words].start() if tail and words else len(text)
    while tail and words and tail_start > head_end and not _breaks_before(text, tail_start):
        tail_start -= 1
    kept_head = text[:head_end] if head else ""
    kept_tail = text[tail_start:] if tail else ""
    if "\n" not in text[head_end:tail_start]:
        return " ".join(part for part in (kept_head, _ELLIPSIS, kept_tail) if part)
    # A cut across paragraphs: "…" closes the head's paragraph and opens the tail's.
    lines = [" ".join(p for p in (kept_head, _ELLIPSIS) if p) if head else ""]
    lines.append(" ".join(p for p in (_ELLIPSIS, kept_tail) if p) if tail else "")
    return "\n".join(line for line in lines if line)


def _word_end(text: str, pos: int) -> int:
    """Where the word ending at ``pos`` may be cut: at the next space, or before the next CJK
    character (those scripts write no spaces), so punctuation stays with its word."""
    found = WORD_BREAK_RE.search(text, pos)
    return found.start() if found else len(text)


def _breaks_before(text: str, pos: int) -> bool:
    """Whether a kept tail may start at ``pos``: after a space or a CJK character."""
    before = text[pos - 1]
    return before.isspace() or is_cjk(before) or before in _CJK_CLOSING


def _html_op(op: str, text: str) -> str:
    escaped = html.escape(text)
    if op == "equal" or not escaped:
        return escaped
    tags = _HTML[op]
    return f"{tags[0]}{escaped}{tags[1]}"


def _html_paragraphs(ops: list[Op]) -> list[str]:
    """Split the ops at paragraph breaks into paragraph HTML (the union of both versions)."""
    paragraphs = [""]
    for op, text in ops:
        if op != "equal" and "\n" in text and not text.strip():
            paragraphs[-1] += _html_op(op, "¶")
        for k, line in enumerate(text.split("\n")):
            if k:
                paragraphs.append("")
            paragraphs[-1] += _html_op(op, line)
    return paragraphs
