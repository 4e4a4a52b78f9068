"""The command line as a package: one decorator, ``with_runtime``, brings the schema up to date and hands
a command the runtime, and a command whose arguments are wrong touches nothing."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

import bootstrap
from myocit.cli import kit
from testkit import cli

ROOT = Path(__file__).resolve().parents[2]


def test_a_command_with_runtime_gets_the_runtime_after_the_migration_and_shows_only_its_own_options(monkeypatch):
    happened = []
    runtime = object()
    monkeypatch.setattr(kit, "migrate_quietly", lambda: happened.append("migrated"))
    monkeypatch.setattr(bootstrap, "runtime", lambda: happened.append("runtime built") or runtime)
    app = typer.Typer(add_completion=False)

    @app.command()
    @kit.with_runtime
    def count(rt, times: int = typer.Option(1, help="How many.")) -> None:
        """Count on the database."""
        happened.append(("ran", rt is runtime, times))

    shown = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "100"})
    assert "--times" in shown.output and "Count on the database." in shown.output
    assert [parameter.name for parameter in typer.main.get_command(app).params] == ["times"]
    assert happened == []
    done = CliRunner().invoke(app, ["--times", "3"])
    assert done.exit_code == 0, done.output
    assert happened == ["migrated", "runtime built", ("ran", True, 3)]


@pytest.mark.parametrize("args, said", [
    (("subscription", "create", "--site", "site-a"), "give exactly one of --email ADDRESS or --webhook URL"),
    (("messages", "reprocess"), "give one message id or --since T"),
    (("patient", "move", "child-1", "--site", "x" * 65), "--site: 1 to 64 characters"),
    (("screening-log", "--from", "yesterday"), "--from: 'yesterday' is not a date"),
    (("protocol", "shadow", "v2", "--format", "xml"), "--format must be text, json or csv"),
])
def test_a_command_refusing_its_arguments_creates_no_home_and_migrates_nothing(tmp_path, args, said):
    home = tmp_path / "home"
    done = cli.myocit(*args, env={"MYOCIT_HOME": str(home)})
    assert done.returncode == 2, done.stderr
    assert said in done.stderr and "new home" not in done.stderr
    assert not home.exists()


def test_only_the_migrate_command_migrates_by_hand_every_other_command_goes_through_with_runtime():
    called = {
        f"{path.name}::{function.name}"
        for path in sorted((ROOT / "myocit" / "cli").glob("*.py"))
        for function in ast.walk(ast.parse(path.read_text()))
        if isinstance(function, ast.FunctionDef)
        for node in ast.walk(function)
        if isinstance(node, ast.Call) and ast.unparse(node.func).endswith("migrate_quietly")
    }
    # (ast.walk meets the decorator's inner function inside the decorator too.)
    assert called == {"kit.py::with_runtime", "kit.py::on_the_database", "processes.py::migrate"}
