"""`myocit demo`: sample children of two sites, sent by tokens of the roles the contract asks for, screened,
each site's coordinator seeing only its own."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from myocit.demo import CHILDREN, SITES, AlreadyLoaded, load_demo, shifted
from store import messages, views
from store.tokens import authenticate
from testkit import cli
from tests.inprocess import make_runtime

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("value, days, moved", [
    ("2026-11-27T08:10:00+01:00", 2, "2026-11-29T08:10:00+01:00"),
    ("2013-06-14", -1, "2013-06-13"),
    ("2026-12-31", 1, "2027-01-01"),
    ("A-000123", 5, "A-000123"),
    ("2026-13-45", 1, "2026-13-45"),
    ({"period": {"start": "2026-02-28"}, "n": 3}, 1, {"period": {"start": "2026-03-01"}, "n": 3}),
])
def test_the_demo_moves_every_date_of_its_record_and_nothing_else(value, days, moved):
    assert shifted(value, days) == moved


@pytest.fixture()
def demo(tmp_path):
    rt = make_runtime(tmp_path)
    return rt, load_demo(rt, actor="command line")


def test_children_of_two_sites_are_screened_with_the_status_each_was_made_for(demo):
    rt, loaded = demo
    assert loaded.statuses == {"necker-01": "eligible", "necker-02": "incomplete", "necker-03": "waiting",
                               "rdebre-01": "eligible", "rdebre-02": "ineligible", "rdebre-03": "ineligible"}
    with rt.uow() as uow:
        for site in SITES:
            coordinator = authenticate(uow.session, loaded.tokens[("coordinator", site)])
            seen = views.worklist(uow.session, coordinator)
            assert {row.patient.id for row in seen} == {c.id for c in CHILDREN if c.site == site}
            assert all(row.screening is not None and row.patient.site == site for row in seen)


def test_each_message_comes_from_a_token_of_the_role_that_may_send_it(demo):
    rt, loaded = demo
    with rt.uow() as uow:
        roles = {role: authenticate(uow.session, token).role for (role, _), token in loaded.tokens.items()}
        sent = messages.listing(uow.session)
    assert roles == {role: role for role in roles} and set(roles) == {"admin", "lab", "coordinator", "investigator"}
    by_channel_and_sender = {(m.channel, m.sender) for m in sent}
    assert by_channel_and_sender == {
        ("fhir", "demo lab necker"), ("fhir", "demo investigator necker"), ("ui", "demo investigator necker"),
        ("fhir", "demo lab robert-debre"), ("fhir", "demo investigator robert-debre"),
        ("ui", "demo coordinator robert-debre")}


def test_a_second_run_changes_nothing_and_says_why(demo):
    rt, loaded = demo
    with rt.uow() as uow:
        before = len(messages.listing(uow.session))
    with pytest.raises(AlreadyLoaded, match="necker-01"):
        load_demo(rt, actor="command line")
    with rt.uow() as uow:
        assert len(messages.listing(uow.session)) == before


def test_the_command_prints_where_to_sign_in_and_refuses_a_second_run(tmp_path):
    env = {"MYOCIT_HOME": str(tmp_path / "home"), "MYOCIT_TODAY": date.today().isoformat()}

    def demo():
        return cli.myocit("demo", env=env)

    first = demo()
    assert first.returncode == 0, first.stderr
    assert "http://127.0.0.1:8000/ui" in first.stdout
    assert all(f"necker-0{n} (necker, " in first.stdout for n in (1, 2, 3))
    tokens = [line.split()[-1] for line in first.stdout.splitlines() if line.strip().startswith("coordinator")]
    assert len(tokens) == 2 and all(token.startswith("myo_") for token in tokens)
    second = demo()
    assert second.returncode == 1
    assert "already loaded" in second.stderr and "myocit token create" in second.stderr


def test_the_readmes_curl_example_is_taken_from_the_sites_lab_and_refused_from_the_others(demo):
    from fastapi.testclient import TestClient

    from web.app import create_app

    rt, loaded = demo
    body = (ROOT / "docs" / "examples" / "neutrophils.json").read_bytes()
    with TestClient(create_app(rt), raise_server_exceptions=False) as client:
        def post(site: str):
            return client.post("/fhir", content=body, headers={
                "Authorization": f"Bearer {loaded.tokens[('lab', site)]}", "Content-Type": "application/fhir+json"})

        taken, refused = post("necker"), post("robert-debre")
    assert taken.status_code == 202 and taken.json()["entry"][0]["response"]["status"].startswith("20")
    assert refused.json()["entry"][0]["response"]["status"].startswith("403")
