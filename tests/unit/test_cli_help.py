"""What a newcomer reads first: `--help` that reads as prose, and the versions a fresh clone installs."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from testkit import cli

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "requirements.lock"


def help_of(*command: str, columns: int = 80) -> str:
    out = cli.myocit(*command, "--help", env={"COLUMNS": str(columns)})
    assert out.returncode == 0, out.stderr
    return out.stdout


@pytest.mark.parametrize("command", [(), ("token", "create"), ("import",), ("screen",), ("protocol", "shadow"),
                                     ("messages", "list")])
def test_help_names_types_as_words_not_python_annotations(command):
    shown = help_of(*command)
    assert not re.search(r"<(bool|str|int|list\[\w+\]|Path|list\[Path\])>", shown), shown
    assert not re.search(r"\{\w+\}", shown), shown


def test_a_commands_summary_is_one_sentence_not_cut_where_its_docstring_wraps():
    wide = help_of(columns=300)
    status = next(line for line in wide.splitlines() if re.match(r"\W*status\s", line))
    assert "failed deliveries, then what the running service counted" in status
    log = next(line for line in wide.splitlines() if re.match(r"\W*screening-log\s", line))
    assert "one row per child first screened in the period" in log


def locked() -> dict[str, str]:
    pins = {}
    for line in LOCK.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[canonicalize_name(name)] = version.strip()
    return pins


def test_every_dependency_the_project_names_is_pinned_to_a_version_it_allows():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    named = [Requirement(text) for text in project["dependencies"] + project["optional-dependencies"]["dev"]]
    pins = locked()
    for requirement in named:
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement.name} is not in requirements.lock"
        assert requirement.specifier.contains(pins[name]), f"{requirement.name}=={pins[name]} breaks {requirement}"


def test_what_is_installed_is_what_the_lock_file_pins():
    """`make install` installs with the lock file as constraints; a drift means an install bypassed it."""
    drift = []
    for name, version in locked().items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue  # a package of another platform
        if installed != version:
            drift.append(f"{name} {installed} (locked {version})")
    assert not drift, "run `make install`: " + ", ".join(drift)
