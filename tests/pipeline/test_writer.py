"""The crawl's database writer: batched transactions, bulk jobs, and failures kept to their item."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pipeline.writer import BatchWriter, Bulk
from storage.db import make_engine, make_session_factory
from storage.migrate import upgrade_database
from storage.models import Outlet


def _add_outlets(session: Session, names: list[str]) -> list[int]:
    ids = session.scalars(insert(Outlet).returning(Outlet.id, sort_by_parameter_order=True),
                          [{"name": n} for n in names])  # fmt: skip
    return list(ids)


def _add_outlet(session: Session, name: str) -> int:
    return _add_outlets(session, [name])[0]


OUTLETS: Bulk[str, int] = Bulk(many=_add_outlets, one=_add_outlet)


@pytest.fixture
def writer(tmp_path: Path):  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'w.db'}"
    upgrade_database(url)
    engine = make_engine(url)
    # a long wait so that everything submitted below lands in one batch
    writer = BatchWriter(make_session_factory(engine), max_batch=64, max_wait=0.5)
    yield writer
    writer.close()
    engine.dispose()


def _names(writer: BatchWriter) -> list[str]:
    with writer.sessions() as session:
        return list(session.scalars(select(Outlet.name).order_by(Outlet.id)))


def test_bulk_jobs_of_a_batch_are_written_in_one_call_with_results_in_order(
    writer: BatchWriter,
) -> None:
    calls: list[list[str]] = []
    counting: Bulk[str, int] = Bulk(
        many=lambda s, names: calls.append(names) or _add_outlets(s, names), one=_add_outlet
    )
    futures = [writer.submit_bulk(counting, name) for name in ("A", "B", "C")]
    writer.start()
    ids = [f.result(timeout=10) for f in futures]
    assert calls == [["A", "B", "C"]]
    assert ids == sorted(ids)
    assert _names(writer) == ["A", "B", "C"]


def test_one_bad_payload_fails_alone_and_the_rest_of_the_batch_is_stored(
    writer: BatchWriter,
) -> None:
    with writer.sessions.begin() as session:
        session.add(Outlet(name="taken"))
    plain = writer.submit(lambda s: _add_outlet(s, "plain job"))
    futures = {name: writer.submit_bulk(OUTLETS, name) for name in ("A", "taken", "B")}
    writer.start()
    assert plain.result(timeout=10) > 0
    assert futures["A"].result(timeout=10) > 0
    assert futures["B"].result(timeout=10) > 0
    with pytest.raises(IntegrityError):
        futures["taken"].result(timeout=10)
    assert sorted(_names(writer)) == ["A", "B", "plain job", "taken"]


StartWriter = Callable[..., BatchWriter]


@pytest.fixture
def started_writer(tmp_path: Path) -> Iterator[StartWriter]:
    """Makes a running writer with the given gathering time; closed after the test."""
    made: list[tuple[BatchWriter, Any]] = []

    def start(max_wait: float, max_gap: float | None = None) -> BatchWriter:
        url = f"sqlite:///{tmp_path / f'w{len(made)}.db'}"
        upgrade_database(url)
        engine = make_engine(url)
        gap = max_wait if max_gap is None else max_gap
        writer = BatchWriter(make_session_factory(engine), max_wait=max_wait, max_gap=gap)
        writer.start()
        made.append((writer, engine))
        return writer

    yield start
    for writer, engine in made:
        writer.close()
        engine.dispose()


def test_jobs_arriving_while_the_writer_gathers_share_one_transaction(
    started_writer: StartWriter,
) -> None:
    writer = started_writer(max_wait=2.0)
    first = writer.submit_bulk(OUTLETS, "A")
    time.sleep(0.2)  # well inside the wait: the first job is not written alone
    second = writer.submit_bulk(OUTLETS, "B")
    assert first.result(timeout=10) > 0
    assert second.result(timeout=10) > 0
    assert (writer.batches, writer.items) == (1, 2)


def test_the_writer_stops_gathering_when_jobs_stop_coming(started_writer: StartWriter) -> None:
    """At a crawl's end (or in a slow crawl) nothing else is coming: the last pages must not
    wait out the whole gathering time before the crawl can finish."""
    writer = started_writer(max_wait=30.0, max_gap=0.2)
    started = time.monotonic()
    first = writer.submit_bulk(OUTLETS, "A")
    time.sleep(0.05)  # inside the gap: same transaction
    second = writer.submit_bulk(OUTLETS, "B")
    assert first.result(timeout=20) > 0
    assert second.result(timeout=20) > 0
    assert time.monotonic() - started < 10
    assert (writer.batches, writer.items) == (1, 2)
    time.sleep(0.5)  # a gap: the next job starts a transaction of its own
    assert writer.submit_bulk(OUTLETS, "C").result(timeout=20) > 0
    assert (writer.batches, writer.items) == (2, 3)


def test_an_urgent_job_is_written_without_waiting_for_company(
    started_writer: StartWriter,
) -> None:
    """The crawl blocks on a few jobs (the outlets' repeated-line windows at the start): those
    must not wait out the gathering time."""
    writer = started_writer(max_wait=30.0)
    started = time.monotonic()
    assert writer.submit(lambda s: _add_outlet(s, "A"), urgent=True).result(timeout=20) > 0
    assert time.monotonic() - started < 10
