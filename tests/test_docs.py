"""The docs stay true: README set-up commands, command help, documented settings."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from pipeline import settings as project_settings
from pipeline.cli import cli
from pipeline.cli.app import COMMAND_MODULES

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def readme_setup_commands() -> list[str]:
    block = re.search(r"```(?:sh|bash|console)?\n(.*?)```", README, re.S)
    assert block, "README must start with a code block of set-up commands"
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_readme_starts_with_exactly_two_setup_commands() -> None:
    head = README.split("```")[0]
    assert len(head.strip().splitlines()) <= 3, "the set-up commands must come first"
    demo, tests = readme_setup_commands()
    assert "newsmon demo" in demo
    assert "pytest" in tests


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    _, tests = readme_setup_commands()
    assert tests in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(COMMAND_MODULES))
def test_every_command_has_help_with_an_example(name: str) -> None:
    command = cli.get_command(click.Context(cli), name)
    assert isinstance(command, click.Command)
    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 0
    assert "Example" in result.output
    assert f"newsmon {name}" in README, f"README does not document `newsmon {name}`"


def test_every_newsmon_setting_is_documented() -> None:
    names = {
        n
        for n in dir(project_settings)
        if n.startswith("NEWSMON_") and n != "NEWSMON_SETTINGS_HELP"
    }
    assert names == set(project_settings.NEWSMON_SETTINGS_HELP)


def test_every_config_key_is_documented_in_readme() -> None:
    from pipeline.config import CrawlConfig, DedupeConfig, OutletConfig, RunConfig, VersionsConfig

    for section in (CrawlConfig, RunConfig, DedupeConfig, VersionsConfig):
        for key in section.__dataclass_fields__:
            assert key in README, f"{section.__name__}.{key} is not documented in README.md"
    for key in OutletConfig.__dataclass_fields__:
        assert key in README, f"outlets.{key} is not documented in README.md"
