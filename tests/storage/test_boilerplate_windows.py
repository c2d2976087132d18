"""Outlet windows of repeated lines survive between crawls, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from storage.boilerplate import boilerplate_windows, save_boilerplate_windows


def test_windows_are_stored_replaced_and_read_back_in_order(db_session: Session) -> None:
    at = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    first = [frozenset({1, 2**64 - 1}), frozenset({2**64 - 1, 12345678901234567})]
    save_boilerplate_windows(db_session, {"Outlet A": first, "Outlet B": []}, at)
    assert boilerplate_windows(db_session, ["Outlet A", "Outlet B", "Outlet C"]) == {
        "Outlet A": first,
        "Outlet B": [],
    }
    second = [*first, frozenset({7}), frozenset()]
    save_boilerplate_windows(db_session, {"Outlet A": second}, at)
    assert boilerplate_windows(db_session, ["Outlet A"]) == {"Outlet A": second}
