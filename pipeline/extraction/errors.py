"""The one exception extraction raises, kept apart so every extraction module can import it."""

from __future__ import annotations


class ExtractionFailed(Exception):
    """No usable article in the page.

    ``reason`` is short and human-readable (``"no article text"``, ``"text too short (23 words)"``,
    ``"not HTML (application/pdf)"``), fit for a log line or a per-reason counter.
    """

    reason: str

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
