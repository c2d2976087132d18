"""The LSH band rows go in through the driver's executemany, and come back the same."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

import storage.dedupe_store as dedupe_store
from storage.dedupe_store import band_matches, replace_bands
from storage.models import SyndicationBand
from tests.dedupe import texts
from tests.dedupe.helpers import store

# signed 64-bit keys, the extremes included
KEYS = [-(2**63), -1, 0, 1, 2**63 - 1]


def stored_rows(sessions: sessionmaker[Session]) -> set[tuple[int, int]]:
    with sessions() as session:
        rows = session.execute(select(SyndicationBand.key, SyndicationBand.article_id))
        return {(key, article) for key, article in rows}


def two_articles(sessions: sessionmaker[Session]) -> tuple[int, int]:
    with sessions.begin() as session:
        first = store(session, "Metro", "https://m/1", texts.WIRE_TITLE, texts.WIRE)
        second = store(session, "River", "https://r/1", "Fire", texts.OTHER_FIRE_2)
    return first, second


def test_band_rows_are_stored_and_found_by_key(sessions: sessionmaker[Session]) -> None:
    first, second = two_articles(sessions)
    with sessions.begin() as session:
        replace_bands(session, {first: KEYS, second: [KEYS[0], 42, 42]})
    assert stored_rows(sessions) == {(k, first) for k in KEYS} | {(KEYS[0], second), (42, second)}
    with sessions() as session:
        found = band_matches(session, [KEYS[0], 42, 7])
    assert sorted(found[KEYS[0]]) == sorted([first, second])
    assert found[42] == [second]
    assert 7 not in found


def test_stale_band_rows_are_replaced(sessions: sessionmaker[Session]) -> None:
    first, _ = two_articles(sessions)
    with sessions.begin() as session:
        replace_bands(session, {first: [1, 2]})
    with sessions.begin() as session:
        replace_bands(session, {first: [2, 3]}, stale={first: [1, 2]})
    assert stored_rows(sessions) == {(2, first), (3, first)}


def test_a_driver_with_another_paramstyle_goes_through_sqlalchemy(
    sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    first, _ = two_articles(sessions)
    monkeypatch.setattr(dedupe_store, "_PLACEHOLDERS", {})
    with sessions.begin() as session:
        replace_bands(session, {first: KEYS})
    assert stored_rows(sessions) == {(k, first) for k in KEYS}
