"""The CLI contract: exit codes, one-line user errors, JSON shapes of search/show/export."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.config import DEFAULT_SCHEDULE
from pipeline.history import record_page
from pipeline.versions import content_hash
from storage.db import make_engine, make_session_factory
from storage.migrate import upgrade_database
from storage.repository import ArticleSnapshot


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    upgrade_database(url)
    engine = make_engine(url)
    with make_session_factory(engine).begin() as session:
        for n, (title, text) in enumerate(
            [
                ("State Department dissent memo on Gaza",
                 "Diplomats signed a dissent memo urging a ceasefire. " * 5),
                ("Café owners protest rent", "The café owners gathered downtown on Monday. " * 5),
            ],
            start=1,
        ):  # fmt: skip
            record_page(
                session,
                ArticleSnapshot(
                    outlet="Axios" if n == 1 else "Politico",
                    url=f"https://news.example/{n}",
                    aliases=[f"https://news.example/{n}?utm_source=rss"],
                    title=title,
                    text=text,
                    authors=["Jane Doe"],
                    content_hash=content_hash(title, text, ["Jane Doe"]),
                    fetched_at=datetime(2023, 11, 13, 10 + n, tzinfo=UTC),
                    published_at=datetime(2023, 11, 13, 9 + n, tzinfo=UTC),
                    language="en",
                ),
                DEFAULT_SCHEDULE,
            )
    engine.dispose()
    return url


def test_search_prints_json_lines_with_the_contract_fields(db: str) -> None:
    code, out, _ = run("--db", db, "search", '"dissent memo"', "--json")
    assert code == 0
    (hit,) = [json.loads(line) for line in out.splitlines()]
    assert set(hit) == {
        "id", "outlet", "url", "title", "published_at", "snippet", "score", "removed_at"
    }  # fmt: skip
    assert hit["removed_at"] is None
    assert hit["outlet"] == "Axios"
    assert hit["published_at"] == "2023-11-13T10:00:00+00:00"


def test_search_is_accent_insensitive_and_filters_by_outlet(db: str) -> None:
    assert "Café owners" in run("--db", db, "search", "cafe")[1]
    assert run("--db", db, "search", "cafe", "--outlet", "Axios", "--json")[1] == ""


@pytest.mark.parametrize(
    ("option", "problem"),
    [
        ("--outlet", "no outlet named 'Nope' (known: Axios, Politico)"),
        ("--story", "no story named 'Nope'"),
    ],
)
def test_search_filter_naming_nothing_known_is_a_user_error(
    db: str, option: str, problem: str
) -> None:
    code, out, err = run("--db", db, "search", "memo", option, "Nope")
    assert (code, out) == (2, "")
    assert err == f"newsmon: error: {problem}" + (
        " (known: none yet)\n" if option == "--story" else "\n"
    )


def test_search_without_hits_exits_zero(db: str) -> None:
    code, out, _ = run("--db", db, "search", "nothingmatchesthis")
    assert code == 0
    assert "No matches" in out


def test_malformed_query_is_a_user_error(db: str) -> None:
    code, _, err = run("--db", db, "search", "(gaza")
    assert code == 2
    assert err.startswith("newsmon: error:")
    assert "parenthesis" in err
    assert "Traceback" not in err


def test_bad_date_is_a_user_error(db: str) -> None:
    code, _, err = run("--db", db, "search", "gaza", "--since", "last week")
    assert code == 2
    assert "--since" in err


def test_show_by_id_and_by_alias_url(db: str) -> None:
    code, out, _ = run("--db", db, "show", "1")
    assert code == 0
    assert "State Department dissent memo" in out
    assert "Diplomats signed" in out
    code, out, _ = run("--db", db, "show", "https://news.example/2?utm_source=rss", "--json")
    record = json.loads(out)
    assert record["id"] == 2
    assert record["aliases"] == ["https://news.example/2?utm_source=rss"]


def _retitle_first_article(db: str) -> None:
    """Version 2 of article 1: a new headline and byline, the same text."""
    title, text, authors = (
        "Dissent memo reaches Blinken",
        "Diplomats signed a dissent memo urging a ceasefire. " * 5,
        ["John Roe"],
    )
    engine = make_engine(db)
    with make_session_factory(engine).begin() as session:
        record_page(
            session,
            ArticleSnapshot(
                outlet="Axios",
                url="https://news.example/1",
                aliases=[],
                title=title,
                text=text,
                authors=authors,
                content_hash=content_hash(title, text, authors),
                fetched_at=datetime(2023, 11, 14, 8, tzinfo=UTC),
                language="en",
            ),
            DEFAULT_SCHEDULE,
        )
    engine.dispose()


def test_show_an_older_version_prints_its_own_headline_and_byline(db: str) -> None:
    _retitle_first_article(db)
    code, out, _ = run("--db", db, "show", "1", "--version", "1")
    assert code == 0
    headline, *facts = out.splitlines()
    assert headline == "State Department dissent memo on Gaza"
    assert "  authors    Jane Doe" in facts
    assert "  now titled Dissent memo reaches Blinken" in facts
    assert "  now by     John Roe" in facts
    code, out, _ = run("--db", db, "show", "1")
    assert out.splitlines()[0] == "Dissent memo reaches Blinken"
    assert "now titled" not in out
    assert "  authors    John Roe" in out.splitlines()


def test_show_unknown_article_exits_2(db: str) -> None:
    code, _, err = run("--db", db, "show", "999")
    assert code == 2
    assert "no article" in err


def test_export_jsonl_matches_the_contract(db: str, tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl"
    code, _, _ = run("--db", db, "export", "--output", str(target))
    assert code == 0
    records = [json.loads(line) for line in target.read_text("utf-8").splitlines()]
    assert [r["id"] for r in records] == [1, 2]
    first = records[0]
    for key in ("id", "outlet", "url", "canonical_url", "title", "authors", "published_at",
                "first_seen_at", "last_checked_at", "language", "aliases", "removed_at",
                "duplicate_of", "stories", "versions"):  # fmt: skip
        assert key in first
    (version,) = first["versions"]
    assert {"number", "fetched_at", "title", "text", "content_hash"} <= set(version)
    assert not (tmp_path / "out.jsonl.partial").exists()


def test_export_into_a_missing_folder_is_a_user_error(db: str, tmp_path: Path) -> None:
    code, _, err = run("--db", db, "export", "--output", str(tmp_path / "nowhere" / "out.csv"))
    assert code == 2
    assert (
        err
        == f"newsmon: error: --output: cannot write to {tmp_path / 'nowhere'}: no such directory\n"
    )


def test_a_failed_export_leaves_no_partial_file(tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl"
    code, _, err = run("--db", f"sqlite:///{tmp_path / 'none.db'}", "export", "-o", str(target))
    assert code == 2
    assert "newsmon init" in err
    assert list(tmp_path.glob("out.jsonl*")) == []


def test_export_csv_has_one_row_per_article(db: str) -> None:
    code, out, _ = run("--db", db, "export", "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [row["title"] for row in rows][1] == "Café owners protest rent"
    assert rows[0]["versions"] == "1"
    assert list(rows[0])[:15] == [
        "id",
        "outlet",
        "url",
        "title",
        "authors",
        "published_at",
        "first_seen_at",
        "last_checked_at",
        "language",
        "aliases",
        "removed_at",
        "duplicate_of",
        "stories",
        "versions",
        "text",
    ]  # fmt: skip  (the first columns keep their places)
    assert rows[0]["canonical_url"] == "https://news.example/1"
    assert json.loads(rows[0]["authors_json"]) == ["Jane Doe"]
    assert json.loads(rows[0]["stories_json"]) == []


def test_bad_config_exits_2_naming_file_and_key(tmp_path: Path) -> None:
    config = tmp_path / "newsmon.toml"
    config.write_text('[crawl]\ndelay = "soon"\n', encoding="utf-8")
    code, _, err = run("--config", str(config), "crawl")
    assert code == 2
    assert str(config) in err
    assert "crawl.delay" in err
    assert "Traceback" not in err


def test_unknown_outlet_is_a_user_error(tmp_path: Path) -> None:
    config = tmp_path / "newsmon.toml"
    config.write_text('[[outlets]]\nname = "A"\nfeeds = ["https://a.example/rss"]\n', "utf-8")
    code, _, err = run("--config", str(config), "crawl", "--outlet", "B")
    assert code == 2
    assert "no outlet named 'B'" in err


def test_query_commands_on_a_missing_database_explain_what_to_do(tmp_path: Path) -> None:
    code, _, err = run("--db", f"sqlite:///{tmp_path / 'none.db'}", "search", "x")
    assert code == 2
    assert "newsmon init" in err


def test_init_is_idempotent_and_uses_the_config_database(tmp_path: Path) -> None:
    config = tmp_path / "newsmon.toml"
    config.write_text('[database]\nurl = "sqlite:///data/news.db"\n', encoding="utf-8")
    for _ in range(2):
        code, _out, _ = run("--config", str(config), "init")
        assert code == 0
    assert (tmp_path / "data" / "news.db").exists()


def test_invalid_database_url_is_a_user_error() -> None:
    code, _, err = run("--db", "not a url", "search", "x")
    assert code == 2
    assert "invalid database URL" in err


def test_an_unsupported_database_is_a_user_error() -> None:
    code, _, err = run("--db", "mysql://user:secret@127.0.0.1/news", "init")
    assert code == 2
    assert err == (
        "newsmon: error: unsupported database 'mysql' in mysql://user:***@127.0.0.1/news: "
        "newsmon stores its data in SQLite or PostgreSQL\n"
    )


FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "html"


def test_extract_prints_one_json_object_per_file() -> None:
    pages = sorted(FIXTURES.glob("*/*.html"))[:2]
    code, out, _ = run("extract", *map(str, pages), "--json")
    assert code == 0
    records = [json.loads(line) for line in out.splitlines()]
    assert [r["path"] for r in records] == [str(p) for p in pages]
    for record in records:
        assert {"path", "title", "text", "authors", "published_at", "language",
                "canonical_url"} <= set(record)  # fmt: skip
        assert len(record["text"].split()) > 50


def test_extract_reports_a_page_without_article_and_exits_1(tmp_path: Path) -> None:
    empty = tmp_path / "menu.html"
    empty.write_text("<html><body><nav><a href='/'>Home</a></nav></body></html>", "utf-8")
    code, _, err = run("extract", str(empty))
    assert code == 1
    assert "no article" in err


def test_every_command_is_found_without_loading_its_module_first() -> None:
    """Commands load on demand: the table of command modules must name every command."""
    import importlib

    from pipeline.cli.app import COMMAND_MODULES

    for module in set(COMMAND_MODULES.values()):
        importlib.import_module(f"pipeline.cli.{module}")
    assert set(cli.commands) == set(COMMAND_MODULES)
    for name, module in COMMAND_MODULES.items():
        assert cli.commands[name].callback.__module__ == f"pipeline.cli.{module}"  # type: ignore[union-attr]


def test_stories_without_any_says_how_to_configure_one(db: str) -> None:
    code, out, _ = run("--db", db, "stories")
    assert code == 0
    assert "configure [[stories]]" in out


def test_a_named_config_file_that_does_not_exist_is_a_user_error(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.toml"
    code, _, err = run("--config", str(missing), "status")
    assert code == 2
    assert err == f"newsmon: error: {missing}: file not found (create it or pass --config)\n"


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["--to", "1"], "version 1 is the first: nothing before it to compare (try --to 2)"),
        (["--from", "0"], "article 1 has no version 0 (it has 1-2)"),
        (["--from", "2", "--to", "1"], "--from must be an older version than --to"),
    ],
)
def test_diff_names_the_version_problem(db: str, args: list[str], problem: str) -> None:
    _retitle_first_article(db)
    code, out, err = run("--db", db, "diff", "1", *args)
    assert (code, out, err) == (2, "", f"newsmon: error: {problem}\n")


def test_diff_of_an_article_with_one_version_says_so(db: str) -> None:
    code, _, err = run("--db", db, "diff", "2")
    assert code == 2
    assert err == "newsmon: error: article 2 has only one version: nothing to compare\n"


def test_diff_shows_the_changed_byline(db: str) -> None:
    _retitle_first_article(db)
    code, out, _ = run("--db", db, "diff", "1")
    assert code == 0
    assert "Byline: - Jane Doe / + John Roe" in out.splitlines()


def test_until_with_a_time_includes_an_article_published_exactly_then(db: str) -> None:
    code, out, _ = run("--db", db, "search", "memo", "--until", "2023-11-13T10:00:00Z", "--json")
    assert code == 0
    assert [json.loads(line)["id"] for line in out.splitlines()] == [1]
    _, out, _ = run("--db", db, "search", "memo", "--until", "2023-11-13T09:59:59Z", "--json")
    assert out == ""


def test_french_quotation_marks_make_a_phrase(db: str) -> None:
    assert json.loads(run("--db", db, "search", "«dissent memo»", "--json")[1])["id"] == 1
    assert run("--db", db, "search", "«memo dissent»", "--json")[1] == ""  # not the phrase


def test_show_finds_an_article_by_its_amp_url(db: str) -> None:
    code, out, _ = run("--db", db, "show", "https://news.example/1?amp=1", "--json")
    assert code == 0
    assert json.loads(out)["id"] == 1


def test_show_of_a_merged_article_shows_the_article_it_was_merged_into(db: str) -> None:
    from storage.merge import merge_articles

    engine = make_engine(db)
    with make_session_factory(engine).begin() as session:
        merge_articles(session, 1, 2, datetime(2023, 11, 14, tzinfo=UTC))
    engine.dispose()
    code, out, err = run("--db", db, "show", "2", "--json")
    assert code == 0
    assert json.loads(out)["id"] == 1
    assert err == "article 2 was merged into article 1\n"


def test_a_story_is_shown_with_its_id_and_searched_by_it(db: str) -> None:
    from storage.models import ArticleStory, Story

    engine = make_engine(db)
    with make_session_factory(engine).begin() as session:
        story = Story(name="Memo, ceasefire; and reactions", kind="auto")
        session.add(story)
        session.flush()
        session.add(ArticleStory(article_id=1, story_id=story.id))
        story_id = story.id
    engine.dispose()
    listed = json.loads(run("--db", db, "stories", "--json")[1])
    assert [(s["id"], s["name"]) for s in listed] == [(story_id, "Memo, ceasefire; and reactions")]
    code, out, _ = run("--db", db, "search", "memo", "--story", str(story_id), "--json")
    assert code == 0
    assert [json.loads(line)["id"] for line in out.splitlines()] == [1]
    code, _, err = run("--db", db, "search", "memo", "--story", "Nope")
    assert code == 2
    assert "(known: 'Memo, ceasefire; and reactions')" in err


def test_a_removed_article_is_marked_in_search_results(db: str) -> None:
    from storage.models import Article

    engine = make_engine(db)
    with make_session_factory(engine).begin() as session:
        article = session.get(Article, 1)
        assert article is not None
        article.removed_at = datetime(2023, 11, 20, tzinfo=UTC)
    engine.dispose()
    (hit,) = [
        json.loads(line) for line in run("--db", db, "search", "memo", "--json")[1].splitlines()
    ]
    assert hit["removed_at"] == "2023-11-20T00:00:00+00:00"
    assert "(removed 2023-11-20)" in run("--db", db, "search", "memo")[1]


def test_reading_a_mistyped_sqlite_path_creates_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "typo" / "news.db"
    for command in (["search", "memo"], ["status"], ["export"], ["stories"]):
        code, _, err = run("--db", f"sqlite:///{missing}", *command)
        assert code == 2, command
        assert "no newsmon database at" in err
    assert not missing.parent.exists()


def test_a_database_with_an_older_schema_asks_for_init(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade_database(url, "0004")
    for command in (["search", "memo"], ["status"]):
        code, _, err = run("--db", url, *command)
        assert code == 2, command
        assert "has an older schema (revision 0004" in err
        assert "run `newsmon init` to upgrade it" in err
        assert "Traceback" not in err


def test_a_crawl_interrupted_before_it_began_closes_its_run_as_interrupted(
    db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipeline import crawl as crawl_module
    from pipeline import prestart
    from storage.models import CrawlRun
    from storage.runs import start_run

    engine = make_engine(db)
    with make_session_factory(engine).begin() as session:
        run_id = start_run(session, pid=1, machine="daemon").id

    def stopped(*_args: object) -> int:
        raise KeyboardInterrupt  # SIGINT while Scrapy is still being imported

    monkeypatch.setattr(crawl_module, "run_crawl", stopped)
    monkeypatch.setattr(prestart, "warm_workers_for_new_outlets", lambda *_a: None)
    config = tmp_path / "newsmon.toml"
    config.write_text('[[outlets]]\nname = "A"\nfeeds = ["https://a.example/rss"]\n', "utf-8")
    code, _, err = run("--config", str(config), "--db", db, "crawl", "--run-id", str(run_id))
    assert code == 130
    assert "interrupted before it began" in err
    with make_session_factory(engine)() as session:
        run_row = session.get(CrawlRun, run_id)
        assert run_row is not None
        assert run_row.status == "interrupted"
    engine.dispose()
