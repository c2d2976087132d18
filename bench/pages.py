"""Corpus pages used more than once in a benchmark, made distinct inside their article text."""

from __future__ import annotations

import lxml.html

_SKIPPED = frozenset({"script", "style", "noscript", "template", "title", "head"})


def marked_html(html: str, expected: str, n: int) -> str:
    """``html`` with a sentence of its own (number ``n``) inside the article text.

    The sentence is appended to a text node holding the start of one of the article's
    paragraphs (by the ground-truth text ``expected``), where extraction keeps it, so copies
    of one corpus page are neither duplicates nor merged. Failing that, it becomes a paragraph
    at the end of the body.
    """
    sentence = f" Reference {n} was filed by desk {n % 17} for edition {n // 17} of this bench."
    tree = lxml.html.document_fromstring(html)
    probes = [" ".join(line.split()[:4]) for line in expected.splitlines() if len(line) > 80]
    for probe in probes[:6]:
        for element in tree.body.iter() if tree.body is not None else ():
            if not isinstance(element.tag, str) or element.tag in _SKIPPED:
                continue
            if element.text and probe in " ".join(element.text.split()):
                element.text += sentence
                return _serialised(tree)
            if element.tail and probe in " ".join(element.tail.split()):
                element.tail += sentence
                return _serialised(tree)
    for probe in probes[:6]:  # a paragraph whose start is split by inline markup
        for paragraph in tree.body.iter("p") if tree.body is not None else ():
            if probe in " ".join(paragraph.text_content().split()):
                if len(paragraph):
                    paragraph[-1].tail = (paragraph[-1].tail or "") + sentence
                else:
                    paragraph.text = (paragraph.text or "") + sentence
                return _serialised(tree)
    if tree.body is not None:
        tree.body.append(lxml.html.fragment_fromstring(f"<p>{sentence.strip()}</p>"))
    return _serialised(tree)


def _serialised(tree: lxml.html.HtmlElement) -> str:
    return lxml.html.tostring(tree, encoding="unicode", doctype="<!DOCTYPE html>")
