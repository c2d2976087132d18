"""Post-processing's per-text work, done where the text is extracted, not after the crawl.

Two thirds of post-processing's time went into each new text's MinHash signature and term
counts, computed on one core after the crawl had ended. The extraction workers now compute them
next to the text, on every core, and the crawl's writer keeps them in ``pending_features``;
post-processing reads them instead of computing them, and computes only what is missing or no
longer matches the article (a text replaced since).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from storage.pending_features import StoredFeatures, pending_features, save_pending_features

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from pipeline.dedupe import Signature
    from pipeline.terms import TermCounts
    from storage.dedupe_store import ArticleRow


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
    signature: Signature
    terms: TermCounts


def digest(title: str, text: str, language: str | None) -> bytes:
    """Identifies the exact input; far cheaper than the features it guards."""
    payload = "\x1f".join((title, text, language or "")).encode("utf-8", "surrogatepass")
    return hashlib.blake2b(payload, digest_size=16).digest()


def prepare(title: str, text: str, language: str | None) -> PreparedFeatures:
    """The features of one article's title, text and language (run in extraction workers)."""
    # numpy, datasketch and justext: preloaded in workers, never imported by the crawler
    from pipeline.dedupe import signature
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


def store_features(session: Session, prepared: Iterable[tuple[int, PreparedFeatures]]) -> None:
    """Keep prepared features of newly stored texts for the next post-processing run."""
    rows = [
        StoredFeatures(a, f.digest, f.text_hash, f.minhash, f.shingles, f.terms)
        for a, f in prepared
    ]
    save_pending_features(session, rows)


def stored_features(session: Session, rows: Mapping[int, ArticleRow]) -> dict[int, Features]:
    """The pending features of ``rows`` that were computed from their current state."""
    from pipeline.dedupe import Signature
    from pipeline.terms import TermCounts

    found: dict[int, Features] = {}
    for article_id, stored in pending_features(session, rows).items():
        row = rows[article_id]
        if stored.digest != digest(row.title, row.text, row.language):
            continue
        found[article_id] = Features(
            Signature.from_bytes(stored.text_hash, stored.minhash, stored.shingles),
            TermCounts(dict(stored.terms["counts"]), frozenset(stored.terms["names"])),
        )
    return found
