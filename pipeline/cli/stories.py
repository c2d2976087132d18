"""Commands on duplicates and stories: ``stories`` and the maintenance command ``dedupe``."""

from __future__ import annotations

import json

import click

from pipeline.cli.app import AppContext, UserError, cli, open_session


@cli.command()
@click.argument("name", required=False)
@click.option("--json", "as_json", is_flag=True, help="A JSON array of stories.")
@click.pass_obj
def stories(app: AppContext, name: str | None, as_json: bool) -> None:
    """Coverage of each story across outlets: who published what, and when.

    Without NAME, one line per story (configured and automatic); with NAME (or a story id),
    its timeline: per article first seen, published, original and latest title, versions and
    syndicated copies.

    \b
    Example:
        newsmon stories
        newsmon stories "State Department dissent memo" --json
    """
    from pipeline.storyrender import print_story, print_story_list
    from storage.story_report import find_story, story_reports

    with open_session(app) as session:
        chosen = None
        if name is not None:
            story = find_story(session, name)
            if story is None:
                raise UserError(f"no story {name!r} (run `newsmon stories` to list them)")
            chosen = [story]
        reports = story_reports(session, chosen)
    if as_json:
        click.echo(json.dumps([r.to_json() for r in reports], ensure_ascii=False, indent=2))
    elif name is not None:
        print_story(reports[0])
    else:
        print_story_list(reports)


@cli.command()
@click.option("--rebuild", is_flag=True, help="Forget all groups and clusters, start over.")
@click.pass_obj
def dedupe(app: AppContext, rebuild: bool) -> None:
    """Link duplicates and update stories now (a crawl does this at its end).

    Only articles new or changed since the last run are processed; --rebuild starts over,
    e.g. after changing [dedupe] thresholds.

    \b
    Example:
        newsmon dedupe --rebuild
    """
    from pipeline.postprocess import after_crawl
    from storage.dedupe_store import reset_postprocess

    config = app.config(required=True)  # its [[stories]] are the configured stories
    url = app.database_url()
    with open_session(app) as session:
        if rebuild:
            reset_postprocess(session)
            session.commit()
    report = after_crawl(config, url)
    click.echo(
        f"Processed {report.articles} article(s) in {report.seconds:.1f} s: "
        f"{report.merged} merged, {report.links} copy link(s), "
        f"{report.stories_refreshed} story cluster(s) updated."
    )
