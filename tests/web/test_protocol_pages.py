"""The admin's protocol pages (contract §10) and the coordinator's "what was known when this alert was
raised" (contract §11)."""

from __future__ import annotations

import re

from service import amendments
from service.commands import ShadowAmendment
from tests.api.test_protocol_amendments import CHILDREN, DAY, NAME, amendment, child
from tests.inprocess import bearer, post_record, run_pending
from tests.web.conftest import Browser, cmv_flip


def test_each_alert_on_the_patient_page_opens_what_was_known_when_it_was_raised(app, api, tokens, rt):
    cmv_flip(api, tokens, rt, "kid-k", "site-a")
    page = Browser(app, tokens["coordinator"]).get("/ui/patients/kid-k").text
    links = re.findall(r'href="(/ui/alerts/\d+/known)"', page)
    assert len(links) == 1
    known = Browser(app, tokens["coordinator"]).get(links[0])
    assert known.status_code == 200
    assert "ineligible → eligible" in known.text and "Observation/" in known.text and "EXC-CMV-PCR" in known.text
    assert Browser(app, tokens["coordinator-site-b"]).get(links[0]).status_code == 404
    assert Browser(app, tokens["investigator"]).get(links[0]).status_code == 403


def test_the_admin_sees_the_versions_a_diff_and_the_last_shadow_report(tmp_path, app, api, tokens, rt):
    installed = tmp_path / "installed"
    amendment(installed)
    rt.settings.protocols = installed
    for pid in ("c-hb-9", "c-plain"):
        post_record(api, {k: bearer(v) for k, v in tokens.items()}, child(pid, **CHILDREN[pid]))
    run_pending(rt)
    candidate = amendments.load_candidate(NAME, installed)
    amendments.shadow(ShadowAmendment(NAME, DAY), rt.uow(), active_version="myocit-2026-11", active=rt.protocol,
                      candidate=candidate, clock=rt.clock)
    admin = Browser(app, tokens["admin"])
    page = admin.get(f"/ui/protocols?a=myocit-2026-11&b={NAME}")
    assert page.status_code == 200
    text = page.text
    assert "myocit-2026-11 (active)" in text and NAME in text
    assert "thresholds.haemoglobin_below_g_dl: 8.0 → 10.0" in text and "windows.live_vaccine: 28 → 42" in text
    assert "2 screened, 1 would change status" in text
    assert "c-hb-9" in text and '<span class="cname">Haemoglobin below 8 g/dL</span> <span class="cid">EXC-HB</span> pass → fail' in text and "c-plain</a>" not in text
    assert '<span class="cname">Cannot take oral treatment</span> <span class="cid">EXC-ORAL</span>' in text
    assert "Inability to be treated by oral way or to take pills" in text
    assert Browser(app, tokens["coordinator"]).get("/ui/protocols").status_code == 403
