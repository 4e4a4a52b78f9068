"""Where the embedded data lives: one home whatever the working folder, said when it is created, and
never an empty one started silently beside the data of an earlier version's ``./var``."""

from __future__ import annotations

from pathlib import Path

from config.settings import Settings
from testkit import cli

ROOT = Path(__file__).resolve().parents[2]


def test_the_default_home_is_one_absolute_folder_whatever_the_working_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("MYOCIT_HOME", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    homes = set()
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        monkeypatch.chdir(tmp_path / folder)
        homes.add(Settings().home)
    assert homes == {tmp_path / "data" / "myocit"}
    assert Settings().home_is_default


def test_a_relative_home_is_read_once_as_an_absolute_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MYOCIT_HOME", "var")
    settings = Settings()
    assert settings.home == tmp_path / "var" and not settings.home_is_default


def myocit(*args: str, cwd: Path, **env: str) -> cli.Done:
    return cli.myocit(*args, env=env, cwd=cwd)


def test_commands_from_two_folders_share_the_default_home_and_its_creation_is_said_once(tmp_path):
    data = tmp_path / "data"
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    made = myocit("token", "create", "--role", "admin", "--name", "first admin", cwd=tmp_path / "one",
                  XDG_DATA_HOME=str(data))
    assert made.returncode == 0, made.stderr
    assert made.stdout.strip().startswith("myo_")
    assert f"new home {data / 'myocit'}" in made.stderr
    listed = myocit("token", "list", cwd=tmp_path / "two", XDG_DATA_HOME=str(data))
    assert "first admin" in listed.stdout and "new home" not in listed.stderr
    assert not (tmp_path / "one" / "var").exists() and not (tmp_path / "two" / "var").exists()


def test_an_earlier_versions_var_in_the_working_folder_is_named_instead_of_starting_an_empty_home(tmp_path):
    data = tmp_path / "data"
    earlier = tmp_path / "clone" / "var"
    earlier.mkdir(parents=True)
    (earlier / "myocit.sqlite").touch()
    refused = myocit("token", "list", cwd=tmp_path / "clone", XDG_DATA_HOME=str(data))
    assert refused.returncode == 2
    assert f"MYOCIT_HOME={earlier}" in refused.stderr and "Nothing was created" in refused.stderr
    assert not data.exists()
    chosen = myocit("token", "list", cwd=tmp_path / "clone", XDG_DATA_HOME=str(data), MYOCIT_HOME=str(earlier))
    assert chosen.returncode == 0, chosen.stderr
