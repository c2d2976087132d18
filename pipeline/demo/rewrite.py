"""Turn a saved news page into a page of a local outlet that never points outside it.

The page's own identity (canonical, og:url, AMP, dates, site name) moves to its local URL and every
reference to an outside host is dropped, so a crawler following anything stays on loopback. The
article markup itself is left alone, so extraction behaves as on the real site.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import lxml.html
from lxml import etree

# Attributes that hold identifiers or vocabularies, never something a client fetches.
IDENTIFIER_ATTRIBUTES = frozenset({"itemtype", "prefix", "vocab", "typeof", "property", "xmlns"})

_HOST = re.compile(r"(?i)(?:\b[a-z][a-z0-9+.-]*:)?(?://|\\/\\/)([^/\\\s\"'?#)<>,;]+)")
_LOCAL_HOST = re.compile(r"(?i)^(?:127(?:\.\d{1,3}){3}|localhost)(?::\d+)?$")
_CSS_URL = re.compile(r"(?i)url\(\s*(['\"]?)(.*?)\1\s*\)")
_CSS_IMPORT = re.compile(r"(?i)@import\s+[^;]*;")
_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_YEAR = re.compile(r"(19|20)\d\d")
_DATE_KEY = re.compile(r"(?i)date|published|modified|updated|pub_?time|lastmod")
# JSON-LD keys whose URLs name vocabularies, not resources.
JSONLD_IDENTIFIER_KEYS = frozenset({"@context", "@type", "@vocab", "additionalType"})
_JSONLD_DATE_KEYS = frozenset({"datePublished", "dateModified", "dateCreated", "uploadDate"})
_JSONLD_SELF_KEYS = frozenset({"url", "@id", "mainEntityOfPage"})
_EMBED_TAGS = frozenset({"script", "iframe", "frame", "embed", "object", "applet", "link", "meta"})
_SELF_META = frozenset({"og:url", "twitter:url"})
_DROP_LINK_RELS = frozenset({"canonical", "amphtml", "alternate", "shortlink", "manifest"})


@dataclass(frozen=True)
class PageIdentity:
    """Where and how the page now lives."""

    original_url: str
    local_url: str
    site_name: str
    published: datetime
    charset: str = "utf-8"
    charset_in_meta: bool = True
    amp_url: str | None = None
    feed_links: list[tuple[str, str, str]] = field(default_factory=list)  # (type, title, href)
    nav_html: str = ""
    footer_html: str = ""


def has_outside_url(value: str) -> bool:
    """True when ``value`` mentions a URL whose host is not on loopback (``//host``, ``http://host``)."""
    return any(not _LOCAL_HOST.match(host) for host in _HOST.findall(value))


def localize(html: str, identity: PageIdentity) -> str:
    """Return the page rewritten to live at ``identity.local_url``, with no outside reference."""
    root = parse(html)
    head = _ensure_head(root)
    doctype = root.getroottree().docinfo.doctype or "<!DOCTYPE html>"
    _strip_comments_and_scripts(root)
    for element in list(root.iter()):
        _localize_element(element, identity)
    _install_identity(head, identity)
    _inject(root, identity)
    return str(lxml.html.tostring(root, encoding="unicode", doctype=doctype))


def parse(html: str) -> lxml.html.HtmlElement:
    parser = lxml.html.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True)
    return lxml.html.document_fromstring(html.encode("utf-8", "surrogatepass"), parser=parser)


def meta_content(root: lxml.html.HtmlElement, *keys: str) -> str | None:
    """The first non-empty ``<meta name|property=key content>`` among ``keys``."""
    for key in keys:
        for meta in root.iter("meta"):
            if (
                key in (meta.get("property"), meta.get("name"))
                and (meta.get("content") or "").strip()
            ):
                return " ".join(meta.get("content", "").split())
    return None


def _ensure_head(root: lxml.html.HtmlElement) -> lxml.html.HtmlElement:
    head = root.find("head")
    if head is None:
        head = lxml.html.Element("head")
        root.insert(0, head)
    return head


def _strip_comments_and_scripts(root: lxml.html.HtmlElement) -> None:
    for element in list(root.iter(etree.Comment, etree.ProcessingInstruction, "base", "script")):
        if element.tag == "script" and (element.get("type") or "").lower() == "application/ld+json":
            continue
        _remove(element)


def _localize_element(element: Any, identity: PageIdentity) -> None:
    if not isinstance(element.tag, str) or (element.getparent() is None and element.tag != "html"):
        return
    tag = element.tag.lower()
    if tag == "meta" and _localize_meta(element, identity):
        return
    if tag == "link" and set((element.get("rel") or "").lower().split()) & _DROP_LINK_RELS:
        _remove(element)
        return
    if tag == "script":  # only JSON-LD is left
        _localize_jsonld(element, identity)
        return
    if tag == "style" and element.text:
        element.text = _localize_css(element.text)
    _scrub_attributes(element, tag, identity)


def _localize_meta(meta: Any, identity: PageIdentity) -> bool:
    """Handle one ``<meta>``; True when it was removed."""
    key = (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").lower()
    http_equiv = (meta.get("http-equiv") or "").lower()
    if meta.get("charset") is not None or http_equiv in {"refresh", "content-type"}:
        _remove(meta)
        return True
    if key in _SELF_META:
        meta.set("content", identity.local_url)
    elif key == "og:site_name":
        meta.set("content", identity.site_name)
    elif _DATE_KEY.search(key) and _YEAR.search(meta.get("content") or ""):
        meta.set("content", identity.published.isoformat())
    return False


def _scrub_attributes(element: Any, tag: str, identity: PageIdentity) -> None:
    if tag == "time" and element.get("datetime"):
        element.set("datetime", identity.published.isoformat())
    for name, value in list(element.attrib.items()):
        lowered = name.lower()
        if lowered in IDENTIFIER_ATTRIBUTES or lowered.startswith("xmlns"):
            continue
        if not has_outside_url(value):
            continue
        if tag in _EMBED_TAGS and lowered in {"src", "href", "content", "data"}:
            _remove(element)  # the element only exists to pull the outside resource in
            return
        del element.attrib[name]


def _localize_css(css: str) -> str:
    css = _CSS_COMMENT.sub("", css)
    css = _CSS_IMPORT.sub(lambda m: "" if has_outside_url(m.group(0)) else m.group(0), css)
    return _CSS_URL.sub(lambda m: "none" if has_outside_url(m.group(2)) else m.group(0), css)


def _localize_jsonld(script: Any, identity: PageIdentity) -> None:
    try:
        data = json.loads(script.text or "")
    except ValueError:
        _remove(script)
        return
    cleaned = _clean_json(data, identity, key="")
    text = json.dumps(cleaned, ensure_ascii=False, indent=1).replace("</", "<\\/")
    script.text = text


def _clean_json(value: Any, identity: PageIdentity, key: str) -> Any:
    if isinstance(value, dict):
        items = ((k, _clean_json(v, identity, k)) for k, v in value.items())
        return {k: v for k, v in items if v is not _DROP}
    if isinstance(value, list):
        return [v for v in (_clean_json(item, identity, key) for item in value) if v is not _DROP]
    if not isinstance(value, str):
        return value
    if key in _JSONLD_DATE_KEYS:
        return identity.published.isoformat()
    if key in JSONLD_IDENTIFIER_KEYS or not has_outside_url(value):
        return value
    if key in _JSONLD_SELF_KEYS and _same_page(value, identity.original_url):
        return identity.local_url
    return _DROP


_DROP = object()


def _same_page(url: str, original: str) -> bool:
    def norm(u: str) -> str:
        return re.sub(r"^(?:https?:)?//(?:www\.)?", "", u.split("#")[0]).rstrip("/").lower()

    return norm(url) == norm(original)


def _install_identity(head: Any, identity: PageIdentity) -> None:
    """Put charset, canonical, AMP and feed links at the top of ``<head>``."""
    extra = []
    if identity.charset_in_meta:
        extra.append(_element("meta", charset=identity.charset))
    extra.append(_element("link", rel="canonical", href=identity.local_url))
    if identity.amp_url:
        extra.append(_element("link", rel="amphtml", href=identity.amp_url))
    for kind, title, href in identity.feed_links:
        extra.append(_element("link", rel="alternate", type=kind, title=title, href=href))
    # Publishers state date and name in metadata; pages that only show them as text get them too.
    if meta_content(head, "article:published_time") is None:
        published = identity.published.isoformat()
        extra.append(_element("meta", property="article:published_time", content=published))
    if meta_content(head, "og:site_name") is None:
        extra.append(_element("meta", property="og:site_name", content=identity.site_name))
    for position, element in enumerate(extra):
        head.insert(position, element)


def _inject(root: Any, identity: PageIdentity) -> None:
    body = root.find("body")
    if body is None:
        body = lxml.html.Element("body")
        root.append(body)
    if identity.nav_html:
        body.insert(0, lxml.html.fragment_fromstring(identity.nav_html))
    if identity.footer_html:
        body.append(lxml.html.fragment_fromstring(identity.footer_html))


def _element(tag: str, **attributes: str) -> Any:
    element = lxml.html.Element(tag)
    for name, value in attributes.items():
        element.set(name, value)
    return element


def _remove(element: Any) -> None:
    """Remove ``element`` but keep the text that follows it (lxml stores it on the element)."""
    parent = element.getparent()
    if parent is None:
        return
    tail = element.tail
    if tail:
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(element)
