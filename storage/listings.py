"""Validators of feeds, sitemaps and section pages, for conditional GET on the next crawl."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from storage.models import Listing, Outlet
from storage.repository import get_or_create_outlet


@dataclass(frozen=True, slots=True)
class ListingState:
    """How a listing answered when it was last read in full."""

    url: str
    kind: str
    etag: str | None = None
    last_modified: str | None = None
    children: tuple[str, ...] = field(default=())
    body_hash: str | None = None  # SHA-256 of the body, for servers that send no validators

    @property
    def conditional(self) -> bool:
        return bool(self.etag or self.last_modified)


def listing_states(session: Session, outlet_names: Iterable[str]) -> dict[str, ListingState]:
    """The stored validators of the listings of ``outlet_names``, by URL."""
    statement = (
        select(Listing)
        .join(Outlet, Listing.outlet_id == Outlet.id)
        .where(Outlet.name.in_(list(outlet_names)))
    )
    return {
        row.url: ListingState(
            row.url,
            row.kind,
            row.etag,
            row.last_modified,
            tuple(row.children or ()),
            row.body_hash,
        )
        for row in session.scalars(statement)
    }


def save_listing_states(
    session: Session, outlet_name: str, states: Iterable[ListingState], at: datetime
) -> None:
    """Replace the outlet's stored validators by ``states`` (listings read in full this pass)."""
    outlet = get_or_create_outlet(session, outlet_name)
    session.execute(delete(Listing).where(Listing.outlet_id == outlet.id))
    session.add_all(
        Listing(
            url=state.url,
            outlet_id=outlet.id,
            kind=state.kind,
            etag=state.etag,
            last_modified=state.last_modified,
            children=list(state.children),
            read_at=at,
            body_hash=state.body_hash,
        )
        for state in {s.url: s for s in states}.values()
    )
    session.flush()


def forget_listing_states(session: Session, outlet_name: str) -> None:
    """Drop the outlet's validators: its next pass reads every listing in full."""
    outlet_id = session.scalar(select(Outlet.id).where(Outlet.name == outlet_name))
    if outlet_id is not None:
        session.execute(delete(Listing).where(Listing.outlet_id == outlet_id))
