"""Post-processing's per-text work, done where the text is extracted, not after the crawl.

Two thirds of post-processing's time went into each new text's MinHash signature and term
counts, computed on one core after the crawl had ended. The extraction workers now compute them
next to the text, on every core, and the crawl's writer keeps them in ``pending_features``
(:mod:`pipeline.history`); post-processing reads them instead of computing them, and computes
only what is missing or no longer matches the article (a text replaced since). No storage
imports here: the workers load this module.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipeline.minhash import Signature
    from pipeline.terms import TermCounts


@dataclass(frozen=True, slots=True)
class PreparedFeatures:
    """A text's features in plain, picklable form, with the digest of what they describe."""

    digest: bytes
    text_hash: str
    minhash: bytes
    shingles: int
    terms: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Features:
    """What post-processing uses of a text: its MinHash signature and its term counts."""

    signature: Signature
    terms: TermCounts


def digest(title: str, text: str, language: str | None) -> bytes:
    """Identifies the exact input; far cheaper than the features it guards."""
    payload = "\x1f".join((title, text, language or "")).encode("utf-8", "surrogatepass")
    return hashlib.blake2b(payload, digest_size=16).digest()


def prepare(title: str, text: str, language: str | None) -> PreparedFeatures:
    """The features of one article's title, text and language (run in extraction workers)."""
    # numpy and justext: preloaded in workers, never imported by the crawler
    from pipeline.minhash import signature
    from pipeline.terms import term_counts

    sig = signature(text)
    terms = term_counts(title, text, language)
    return PreparedFeatures(
        digest(title, text, language),
        sig.text_hash,
        sig.to_bytes(),
        sig.shingles,
        {"counts": dict(terms.counts), "names": sorted(terms.names)},
    )
