"""Each outlet's window of recent line keys, kept between crawls for its repeated-line rule."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime

import zstandard
from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import BoilerplateWindow, Outlet
from storage.repository import get_or_create_outlet

Page = frozenset[str]


def boilerplate_windows(session: Session, outlet_names: Iterable[str]) -> dict[str, list[Page]]:
    """The stored windows of ``outlet_names``: each page's line keys, oldest first."""
    statement = (
        select(Outlet.name, BoilerplateWindow.pages)
        .join(Outlet, BoilerplateWindow.outlet_id == Outlet.id)
        .where(Outlet.name.in_(list(outlet_names)))
    )
    return {name: _decode(blob) for name, blob in session.execute(statement)}


def save_boilerplate_windows(
    session: Session, windows: Mapping[str, list[Page]], at: datetime
) -> None:
    """Replace the stored windows of the outlets in ``windows``."""
    for name, pages in windows.items():
        outlet = get_or_create_outlet(session, name)
        row = session.get(BoilerplateWindow, outlet.id)
        if row is None:
            session.add(BoilerplateWindow(outlet_id=outlet.id, pages=_encode(pages), updated_at=at))
        else:
            row.pages, row.updated_at = _encode(pages), at


def _encode(pages: list[Page]) -> bytes:
    data = json.dumps([sorted(page) for page in pages], ensure_ascii=False).encode("utf-8")
    return zstandard.ZstdCompressor(level=3).compress(data)


def _decode(blob: bytes) -> list[Page]:
    data = zstandard.ZstdDecompressor().decompress(blob)
    return [frozenset(page) for page in json.loads(data)]
