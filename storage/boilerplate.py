"""Each outlet's window of recent line keys, kept between crawls for its repeated-line rule."""

from __future__ import annotations

import sys
from array import array
from collections.abc import Collection, Iterable, Mapping
from datetime import datetime

import zstandard
from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import BoilerplateWindow, Outlet
from storage.repository import get_or_create_outlet

Page = frozenset[int]  # a page's hashed line keys (unsigned 64-bit)


def boilerplate_windows(session: Session, outlet_names: Iterable[str]) -> dict[str, list[Page]]:
    """The stored windows of ``outlet_names``: each page's line keys, oldest first."""
    statement = (
        select(Outlet.name, BoilerplateWindow.pages)
        .join(Outlet, BoilerplateWindow.outlet_id == Outlet.id)
        .where(Outlet.name.in_(list(outlet_names)))
    )
    return {name: _decode(blob) for name, blob in session.execute(statement)}


def save_boilerplate_windows(
    session: Session, windows: Mapping[str, Iterable[Collection[int]]], at: datetime
) -> None:
    """Replace the stored windows of the outlets in ``windows``."""
    for name, pages in windows.items():
        outlet = get_or_create_outlet(session, name)
        row = session.get(BoilerplateWindow, outlet.id)
        if row is None:
            session.add(BoilerplateWindow(outlet_id=outlet.id, pages=_encode(pages), updated_at=at))
        else:
            row.pages, row.updated_at = _encode(pages), at


def _encode(pages: Iterable[Collection[int]]) -> bytes:
    """Each page as its key count (uint32) then its sorted keys (uint64), little-endian."""
    parts = []
    for page in pages:
        keys = array("Q", sorted(page))
        if sys.byteorder == "big":
            keys.byteswap()
        parts += [len(keys).to_bytes(4, "little"), keys.tobytes()]
    return zstandard.ZstdCompressor(level=3).compress(b"".join(parts))


def _decode(blob: bytes) -> list[Page]:
    data = zstandard.ZstdDecompressor().decompress(blob)
    pages, offset = [], 0
    while offset < len(data):
        count = int.from_bytes(data[offset : offset + 4], "little")
        keys = array("Q", data[offset + 4 : offset + 4 + 8 * count])
        if sys.byteorder == "big":
            keys.byteswap()
        pages.append(frozenset(keys))
        offset += 4 + 8 * count
    return pages
