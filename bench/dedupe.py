"""Dedupe and stories benchmark: synthetic news with a known structure, through the real job.

Usage (from the repo root, with the project installed: ``pip install -e .``)::

    python bench/dedupe.py                        # 100,000 articles + 1,000 more, a few minutes
    python bench/dedupe.py --articles 20000 --extra 500

The generator builds news from sentences of real articles (``../shared/corpus`` ground truth):

- **events**: a seed article gives the event's facts (a dozen of its sentences, their proper
  nouns replaced by the event's own names) and two quotes; each outlet covering the event writes
  its own version: the facts paraphrased (words dropped, replaced and swapped), the quotes
  verbatim or not at all, plus background sentences from elsewhere;
- **similar events**: one event in five reuses the seed of an event of the same days with other
  names and other facts (two fires, two elections: similar vocabulary, different events);
- **wire stories**: three events in ten also have a wire story, printed by 1-5 other outlets
  with edits: other boilerplate, the last paragraphs trimmed (sometimes a third of the story),
  a few words changed, a local paragraph added, another headline;
- **unrelated** articles: events covered once.

Everything is stored as the crawler would (articles and versions in a SQLite file), then
``pipeline.postprocess.run_postprocess`` runs in a fresh process, once over all articles and
once more after ``--extra`` new ones arrive (the next day's news). Syndication is scored on
pairs of articles in one group, stories on pairs of articles in one automatic story; the truth
for stories is every event with at least two independent reports from two outlets.
Prints a markdown table and writes it to ``bench/results/dedupe.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import combinations
from pathlib import Path

from sqlalchemy import insert, select

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS_ROOT = REPO_ROOT.parent / "shared" / "corpus"
RESULTS_FILE = REPO_ROOT / "bench" / "results" / "dedupe.md"
START = datetime(2025, 1, 1, tzinfo=UTC)
OUTLETS = 40
BOILERPLATE = [
    "Copyright 2025 The Associated Press. All rights reserved. This material may not be "
    "published, broadcast, rewritten or redistributed without permission.",
    "Sign up for our morning newsletter to get the day's top stories in your inbox.",
    "Associated Press writers in several cities contributed to this report.",
    "This story has been corrected to show the right spelling of a name.",
    "Follow our live coverage for the latest updates on this developing story.",
]
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"“])")
_PROPER = re.compile(r"(?<=[a-z,;] )[A-Z][a-z]{2,}")


@dataclass
class Corpus:
    """Real sentences: seeds (one list per article), background sentences and names."""

    seeds: list[list[str]]
    background: list[str]
    names: list[str]
    vocabulary: list[str]


@dataclass
class Item:
    """One synthetic article and its ground truth."""

    outlet: int
    title: str
    paragraphs: list[str]
    published: datetime
    event: int
    wire: int | None = None  # syndication group (the wire story id), None when independent


@dataclass
class Generator:
    corpus: Corpus
    rng: random.Random
    items: list[Item] = field(default_factory=list)
    events: int = 0
    wires: int = 0
    recent: list[tuple[datetime, int, list[str]]] = field(default_factory=list)

    # --- events -------------------------------------------------------------------------

    def event(self, at: datetime) -> None:
        """One event: 1-5 independent reports, sometimes a wire story with copies."""
        self.events += 1
        facts, quotes, names = self._facts(at)
        reports = self.rng.choices([1, 2, 3, 4, 5], weights=[35, 25, 20, 12, 8])[0]
        outlets = self.rng.sample(range(OUTLETS), reports + 6)
        for outlet in outlets[:reports]:
            when = at + timedelta(hours=self.rng.uniform(0, 36))
            self.items.append(self._report(outlet, when, facts, quotes, names))
        if self.rng.random() < 0.3:
            self._wire(at, outlets[reports:], facts, quotes, names)

    def unrelated(self, at: datetime) -> None:
        self.events += 1
        facts, quotes, names = self._facts(at)
        self.items.append(self._report(self.rng.randrange(OUTLETS), at, facts, quotes, names))

    def _facts(self, at: datetime) -> tuple[list[str], list[str], list[str]]:
        """The event's facts from a seed (one in five: the seed of a recent event)."""
        rng = self.rng
        self.recent = [r for r in self.recent if at - r[0] < timedelta(days=2)]
        if self.recent and rng.random() < 0.2:
            _, seed_index, used = rng.choice(self.recent)
            seed = [s for s in self.corpus.seeds[seed_index] if s not in used] or self.corpus.seeds[
                seed_index
            ]
        else:
            seed_index = rng.randrange(len(self.corpus.seeds))
            seed = self.corpus.seeds[seed_index]
        picked = rng.sample(seed, min(12, len(seed)))
        names = rng.sample(self.corpus.names, 5)
        mapping: dict[str, str] = {}
        facts = [_rename(s, names, mapping, rng) for s in picked]
        self.recent.append((at, seed_index, picked))
        quotes = [
            f"“{_rename(rng.choice(self.corpus.background), names, mapping, rng).rstrip('.')},” "
            f"said {names[0]} {names[1]}."
            for _ in range(2)
        ]
        return facts, quotes, names

    def _report(
        self, outlet: int, at: datetime, facts: list[str], quotes: list[str], names: list[str]
    ) -> Item:
        rng = self.rng
        chosen = rng.sample(facts, min(len(facts), rng.randint(7, 10)))
        body = [self._paraphrase(s) for s in chosen]
        for quote in quotes:
            if rng.random() < 0.6:
                body.insert(rng.randint(1, len(body)), quote)
        words = sum(len(s.split()) for s in body)
        while words < rng.randint(550, 650):
            sentence = rng.choice(self.corpus.background)
            body.append(sentence)
            words += len(sentence.split())
        title = self._paraphrase(chosen[0]).split()[:9]
        return Item(
            outlet, " ".join([names[2], *title[1:]]), _paragraphs(body, rng), at, self.events
        )

    def _paraphrase(self, sentence: str) -> str:
        """Same facts, other words: drop, replace and swap words; keep names."""
        rng, vocabulary = self.rng, self.corpus.vocabulary
        out: list[str] = []
        for word in sentence.split():
            roll = rng.random()
            if word[:1].isupper() or roll >= 0.45:
                out.append(word)
            elif roll < 0.2:
                continue
            elif roll < 0.35:
                out.append(rng.choice(vocabulary))
            elif out:
                out.insert(len(out) - 1, word)
        return " ".join(out)

    # --- wire stories -------------------------------------------------------------------

    def _wire(
        self,
        at: datetime,
        outlets: list[int],
        facts: list[str],
        quotes: list[str],
        names: list[str],
    ) -> None:
        self.wires += 1
        origin = self._report(outlets[0], at + timedelta(hours=self.rng.uniform(0, 6)), facts,
                              quotes, names)  # fmt: skip
        origin.wire = self.wires
        self.items.append(origin)
        for outlet in outlets[1 : 1 + self.rng.randint(1, 5)]:
            self.items.append(self._copy(origin, outlet))

    def _copy(self, origin: Item, outlet: int) -> Item:
        rng = self.rng
        paragraphs = list(origin.paragraphs)
        if rng.random() < 0.15:  # a brief: the first two thirds or so
            paragraphs = paragraphs[: max(2, round(len(paragraphs) * rng.uniform(0.6, 0.8)))]
        elif rng.random() < 0.5:
            paragraphs = paragraphs[: -rng.randint(1, 2)] or paragraphs
        if rng.random() < 0.6:
            line = rng.choice(BOILERPLATE)
            paragraphs = [line, *paragraphs] if rng.random() < 0.3 else [*paragraphs, line]
        if rng.random() < 0.2:
            local = " ".join(rng.sample(self.corpus.background, 2))
            paragraphs.insert(rng.randint(1, len(paragraphs)), local)
        paragraphs = [self._edit(p) for p in paragraphs]
        title = origin.title if rng.random() < 0.5 else self._paraphrase(origin.title)
        delay = timedelta(hours=rng.uniform(0.2, 12))
        return Item(outlet, title, paragraphs, origin.published + delay, origin.event, origin.wire)

    def _edit(self, paragraph: str) -> str:
        """Copy-editing: now and then a word changes."""
        words = paragraph.split()
        for _ in range(sum(self.rng.random() < 0.15 for _ in range(3))):
            words[self.rng.randrange(len(words))] = self.rng.choice(self.corpus.vocabulary)
        return " ".join(words)


def _rename(sentence: str, names: list[str], mapping: dict[str, str], rng: random.Random) -> str:
    def swap(match: re.Match[str]) -> str:
        word = match.group()
        if word not in mapping:
            mapping[word] = names[len(mapping) % len(names)] if len(mapping) < 8 else word
        return mapping[word]

    return _PROPER.sub(swap, sentence)


def _paragraphs(sentences: list[str], rng: random.Random) -> list[str]:
    out, current = [], []
    for sentence in sentences:
        current.append(sentence)
        if len(current) >= rng.randint(1, 3):
            out.append(" ".join(current))
            current = []
    if current:
        out.append(" ".join(current))
    return out


def load_corpus(root: Path) -> Corpus:
    seeds, background, names, vocabulary = [], [], set(), set()
    for name in ("extraction-bench", "wcxb-dev-articles"):
        path = root / name / "ground-truth.json"
        if not path.is_file():
            continue
        for item in json.loads(path.read_text(encoding="utf-8")).values():
            sentences = [
                " ".join(s.split())
                for line in item["articleBody"].splitlines()
                for s in _SENTENCE.split(line)
                if 8 <= len(s.split()) <= 45 and s.isascii()
            ]
            if len(sentences) >= 15:
                seeds.append(sentences)
            background.extend(sentences)
            for sentence in sentences:
                names.update(_PROPER.findall(sentence))
                vocabulary.update(w for w in sentence.split() if w.isalpha() and w.islower())
    if not seeds:
        raise SystemExit(f"no corpus ground truth under {root} (pass --corpus-root)")
    return Corpus(seeds, background, sorted(names), sorted(vocabulary))


def generate(corpus: Corpus, total: int, seed: int = 7) -> list[Item]:
    """About ``total`` articles over a year, in publication order."""
    gen = Generator(corpus, random.Random(seed))
    days = 365 * total / 100_000
    at = START
    step = timedelta(days=days) / (total / 2.1)
    while len(gen.items) < total:
        at += step
        if gen.rng.random() < 0.3:
            gen.unrelated(at)
        else:
            gen.event(at)
    return sorted(gen.items[:total], key=lambda i: i.published)


# --- storage ------------------------------------------------------------------------------


def store(db_url: str, items: list[Item], first_id: int) -> None:
    """Insert articles and first versions as the crawler would (bulk, for speed)."""
    from pipeline.versions import content_hash
    from storage.blobs import pack
    from storage.db import make_engine, make_session_factory
    from storage.models import Article, Outlet, Version

    engine = make_engine(db_url)
    with make_session_factory(engine).begin() as session:
        known = set(session.scalars(select(Outlet.id)))
        outlets = [{"id": o + 1, "name": f"Outlet {o + 1:02d}"} for o in range(OUTLETS)]
        if not known:
            session.execute(insert(Outlet), outlets)
        for start in range(0, len(items), 5000):
            chunk = list(enumerate(items[start : start + 5000], start=first_id + start))
            articles, versions = [], []
            for article_id, item in chunk:
                text = "\n".join(item.paragraphs)
                seen = item.published + timedelta(minutes=20)
                articles.append({
                    "id": article_id, "outlet_id": item.outlet + 1,
                    "url": f"https://outlet{item.outlet + 1}.example/a/{article_id}",
                    "title": item.title, "text": text, "authors": [],
                    "published_at": item.published, "first_seen_at": seen,
                })  # fmt: skip
                packed = pack(text, None, None)
                versions.append({
                    "article_id": article_id, "number": 1, "fetched_at": seen,
                    "title": item.title, "text_blob": packed.text, "codec": packed.codec,
                    "stored_bytes": packed.size, "authors": [], "labels": [],
                    "content_hash": content_hash(item.title, text),
                })  # fmt: skip
            session.execute(insert(Article), articles)
            session.execute(insert(Version), versions)
    engine.dispose()


# --- scoring ------------------------------------------------------------------------------


def score(db_url: str, items: list[Item]) -> dict[str, float]:
    from storage.db import make_engine, make_session_factory
    from storage.models import Article, ArticleStory, Story

    engine = make_engine(db_url)
    with make_session_factory(engine)() as session:
        duplicate = dict(session.execute(select(Article.id, Article.duplicate_of_id)).all())
        links = session.execute(
            select(ArticleStory.story_id, ArticleStory.article_id)
            .join(Story, Story.id == ArticleStory.story_id)
            .where(Story.kind == "auto")
        ).all()
    engine.dispose()
    ids = dict(enumerate(items, start=1))
    predicted_groups: dict[int, list[int]] = {}
    for article_id, dup in duplicate.items():
        predicted_groups.setdefault(dup or article_id, []).append(article_id)
    true_groups: dict[int, list[int]] = {}
    for article_id, item in ids.items():
        if item.wire is not None:
            true_groups.setdefault(item.wire, []).append(article_id)
    syndication = _pair_scores(_pairs(predicted_groups.values()), _pairs(true_groups.values()))
    stories: dict[int, list[int]] = {}
    for story_id, article_id in links:
        stories.setdefault(story_id, []).append(article_id)
    events: dict[int, list[int]] = {}
    for article_id, item in ids.items():
        events.setdefault(item.event, []).append(article_id)
    true_stories = [m for m in events.values() if _is_story(m, ids)]
    story = _pair_scores(_pairs(stories.values()), _pairs(true_stories))
    origins = {
        w: min(members, key=lambda a: (ids[a].published, a)) for w, members in true_groups.items()
    }
    exact = sum(
        1
        for a, item in ids.items()
        if item.wire is not None
        and duplicate.get(a) == (None if a == origins[item.wire] else origins[item.wire])
    )
    wire_items = sum(1 for item in ids.values() if item.wire is not None)
    return {
        "syndication_precision": syndication[0], "syndication_recall": syndication[1],
        "story_precision": story[0], "story_recall": story[1],
        "origin_accuracy": exact / max(1, wire_items),
        "true_groups": len(true_groups), "true_stories": len(true_stories),
        "predicted_stories": len(stories),
    }  # fmt: skip


def _is_story(members: list[int], ids: dict[int, Item]) -> bool:
    reports = {ids[a].wire if ids[a].wire is not None else -a for a in members}
    outlets = {ids[a].outlet for a in members}
    return len(reports) >= 2 and len(outlets) >= 2


def _pairs(groups: object) -> set[tuple[int, int]]:
    return {(a, b) for g in groups for a, b in combinations(sorted(g), 2)}  # type: ignore[attr-defined]


def _pair_scores(
    predicted: set[tuple[int, int]], truth: set[tuple[int, int]]
) -> tuple[float, float]:
    hits = len(predicted & truth)
    return hits / max(1, len(predicted)), hits / max(1, len(truth))


# --- runs ---------------------------------------------------------------------------------


def run_job(db_url: str, threshold: float | None) -> dict[str, float]:
    """``run_postprocess`` in a fresh process: its time and its own peak memory."""
    code = (
        "import json, sys, time\n"
        "from pipeline.postprocess import PostprocessOptions, run_postprocess\n"
        "from storage.db import make_engine, make_session_factory\n"
        "engine = make_engine(sys.argv[1])\n"
        "kwargs = {} if sys.argv[2] == 'default' else "
        "{'syndication_threshold': float(sys.argv[2])}\n"
        "start, cpu = time.perf_counter(), time.process_time()\n"
        "report = run_postprocess(make_session_factory(engine), PostprocessOptions(**kwargs))\n"
        "seconds, cpu = time.perf_counter() - start, time.process_time() - cpu\n"
        "status = open('/proc/self/status').read()\n"  # VmHWM: this process's peak RSS
        "peak = int(status.split('VmHWM:')[1].split()[0]) / 1024\n"
        "print(json.dumps({'seconds': seconds, 'cpu': cpu, 'peak_mb': peak,\n"
        "                  'articles': report.articles}))\n"
    )
    arg = "default" if threshold is None else str(threshold)
    out = subprocess.run(
        [sys.executable, "-c", code, db_url, arg], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--extra", type=int, default=1_000)
    parser.add_argument("--threshold", type=float, default=None, help="syndication threshold")
    parser.add_argument("--corpus-root", type=Path, default=DEFAULT_CORPUS_ROOT)
    parser.add_argument("--keep", type=Path, help="keep the database in this folder")
    parser.add_argument("--no-write", action="store_true", help="do not write the results file")
    args = parser.parse_args(argv)
    from storage.migrate import upgrade_database

    started = time.perf_counter()
    corpus = load_corpus(args.corpus_root)
    items = generate(corpus, args.articles + args.extra)
    base, extra = items[: args.articles], items[args.articles :]
    generated = time.perf_counter() - started
    folder = args.keep or Path(tempfile.mkdtemp(prefix="newsmon-dedupe-"))
    db_url = f"sqlite:///{folder / 'dedupe.db'}"
    upgrade_database(db_url)
    store(db_url, base, 1)
    full = run_job(db_url, args.threshold)
    store(db_url, extra, len(base) + 1)
    incremental = run_job(db_url, args.threshold)
    scores = score(db_url, items)
    table = render(args, generated, full, incremental, scores, len(corpus.seeds))
    print(table)
    if not args.no_write:
        RESULTS_FILE.write_text(table + "\n", encoding="utf-8")


def render(
    args: argparse.Namespace,
    generated: float,
    full: dict[str, float],
    incremental: dict[str, float],
    scores: dict[str, float],
    seeds: int,
) -> str:
    ratio = incremental["seconds"] / max(full["seconds"], 1e-9)
    cpu_ratio = incremental["cpu"] / max(full["cpu"], 1e-9)
    load = os.getloadavg()[0]
    lines = [
        f"Run {datetime.now(UTC):%Y-%m-%d} on Python {platform.python_version()}, "
        f"{platform.machine()}, SQLite; {args.articles:,} articles + {args.extra:,} more "
        f"({seeds} seed articles from the corpus; generation {generated:.0f} s, not counted). "
        f"Load average {load:.1f} at the end (a shared 2-core machine): CPU seconds are the "
        "steadier measure.",
        "",
        "| measure | value | target |",
        "| --- | ---: | ---: |",
        f"| syndication-link precision | {scores['syndication_precision']:.4f} | ≥ 0.98 |",
        f"| syndication-link recall | {scores['syndication_recall']:.4f} | ≥ 0.95 |",
        f"| group origin right (wire articles) | {scores['origin_accuracy']:.4f} | |",
        f"| story-cluster pairwise precision | {scores['story_precision']:.4f} | ≥ 0.9 |",
        f"| story-cluster pairwise recall | {scores['story_recall']:.4f} | ≥ 0.8 |",
        f"| true groups / true stories / auto stories | {scores['true_groups']:,} / "
        f"{scores['true_stories']:,} / {scores['predicted_stories']:,} | |",
        f"| full run, {args.articles:,} articles | {full['seconds']:.1f} s wall, "
        f"{full['cpu']:.1f} s CPU, peak {full['peak_mb']:.0f} MB | a few minutes |",
        f"| incremental run, {args.extra:,} more | {incremental['seconds']:.2f} s wall, "
        f"{incremental['cpu']:.2f} s CPU, peak {incremental['peak_mb']:.0f} MB | |",
        f"| incremental / full | {ratio:.1%} wall, {cpu_ratio:.1%} CPU | ≤ 5 % |",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
