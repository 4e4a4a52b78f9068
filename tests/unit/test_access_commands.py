"""`myocit access map|list|unmap` from the shell (contract §14)."""

from __future__ import annotations

from tests.unit.test_admin_commands import myocit


def test_a_group_is_mapped_listed_and_unmapped(tmp_path):
    made = myocit(tmp_path, "access", "map", "necker-coordinators", "--role", "coordinator", "--site", "necker",
                  "--site", "debre")
    assert made.returncode == 0
    assert "mapping 1: group necker-coordinators gives coordinator for debre,necker" in made.stdout
    sponsor = myocit(tmp_path, "access", "map", "sponsor", "--role", "monitor", "--site", "necker")
    assert sponsor.returncode == 0 and "gives monitor for necker" in sponsor.stdout
    admins = myocit(tmp_path, "access", "map", "trial-admins", "--role", "admin")
    assert admins.returncode == 0 and "gives admin for *" in admins.stdout
    listed = myocit(tmp_path, "access", "list").stdout.splitlines()
    assert listed[0].startswith("1\tnecker-coordinators\tcoordinator\tdebre,necker\tcreated ")
    assert listed[0].endswith("\tactive")
    assert [line.split("\t")[1] for line in listed] == ["necker-coordinators", "sponsor", "trial-admins"]
    removed = myocit(tmp_path, "access", "unmap", "1")
    assert removed.returncode == 0 and "mapping 1 (group necker-coordinators) removed" in removed.stdout
    assert "\tremoved 20" in myocit(tmp_path, "access", "list").stdout.splitlines()[0]
    missing = myocit(tmp_path, "access", "unmap", "999")
    assert missing.returncode == 2 and "no mapping 999" in missing.stderr


def test_a_mapping_that_does_not_fit_is_refused_with_its_reason(tmp_path):
    no_site = myocit(tmp_path, "access", "map", "g", "--role", "investigator")
    assert no_site.returncode == 2 and "needs at least one --site" in no_site.stderr
    lab = myocit(tmp_path, "access", "map", "g", "--role", "lab", "--site", "necker")
    assert lab.returncode == 2 and "--role must be one of coordinator, investigator, admin, monitor" in lab.stderr
    admin = myocit(tmp_path, "access", "map", "g", "--role", "admin", "--site", "necker")
    assert admin.returncode == 2 and "give no --site" in admin.stderr
    assert myocit(tmp_path, "access", "list").stdout == ""
