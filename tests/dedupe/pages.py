"""Invented article texts wrapped in the page templates of real corpus pages.

The body paragraphs of a saved news page are replaced by ours and its headline set to ours;
navigation, asides, scripts and metadata stay as the outlet published them, so extraction
meets a real page.
"""

from __future__ import annotations

from collections import Counter
from html import escape

import lxml.html

from pipeline.demo.rewrite import parse

MIN_BODY_PARAGRAPH = 60  # characters: shorter <p> are captions, bylines, teasers


def wrap(template: str, title: str, paragraphs: list[str]) -> str:
    """``template`` with its article paragraphs replaced by ``paragraphs`` and ``title`` set."""
    root = parse(template)
    body = [p for p in root.iter("p") if len(p.text_content().strip()) >= MIN_BODY_PARAGRAPH]
    if not body:
        raise ValueError("template has no article paragraphs")
    container = Counter(p.getparent() for p in body).most_common(1)[0][0]
    first = next(p for p in body if p.getparent() is container)
    anchor = first.getprevious()
    for paragraph in body:
        paragraph.getparent().remove(paragraph)
    new = [lxml.html.fragment_fromstring(f"<p>{escape(text)}</p>") for text in paragraphs]
    if anchor is not None:
        for element in reversed(new):
            anchor.addnext(element)
    else:
        for index, element in enumerate(new):
            container.insert(index, element)
    _set_title(root, title)
    return str(lxml.html.tostring(root, encoding="unicode", doctype="<!DOCTYPE html>"))


def _set_title(root: lxml.html.HtmlElement, title: str) -> None:
    for element in root.iter("title", "h1"):
        for child in list(element):
            element.remove(child)
        element.text = title
    for meta in root.iter("meta"):
        key = meta.get("property") or meta.get("name") or ""
        if key in ("og:title", "twitter:title", "title"):
            meta.set("content", title)
        if key in ("description", "og:description", "twitter:description"):
            meta.set("content", title)
