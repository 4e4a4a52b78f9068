"""FHIR outputs end to end, in process (contract §16): a rest-hook receiver run by the test (a small
HTTP server in a thread) sees the handshake, then events 1..n in order; ``$events`` fills the gap it
made by answering 500 for a while; filters, sites and payloads; every resource emitted validates
against the R4 (R4B) models."""

from __future__ import annotations

import json
from datetime import date

import pytest

from config.settings import Settings
from domain import research
from tests.delivery.conftest import MovableClock
from tests.fhir_hook import event_part, parameter, running_hook, valid
from tests.fhir_samples import DETECTED, bundle, coded, eligible_record, patient
from tests.inprocess import make_runtime, post_record, run_pending
from workers import tasks

DAY = date(2026, 12, 1)
BASE = "https://screening.example.org"
NAME, BIRTH, MRN = "Durand-Lefebvre", "2016-01-15", "MRN-7788991"


@pytest.fixture()
def hook():
    with running_hook() as state:
        yield state


@pytest.fixture()
def rt(tmp_path):
    settings = dict(base_url=BASE, webhook_timeout_seconds=3)
    runtime = make_runtime(tmp_path, clock=MovableClock(Settings(home=tmp_path, today="2026-12-01", **settings)),
                           **settings)
    yield runtime
    runtime.dispose()


@pytest.fixture(scope="module")
def refusing(tmp_path_factory):
    """One service for the tests of refused input, which store nothing: (client, tokens)."""
    from fastapi.testclient import TestClient

    from tests.inprocess import bearer, make_tokens
    from web.app import create_app

    runtime = make_runtime(tmp_path_factory.mktemp("refusing"), base_url=BASE)
    with TestClient(create_app(runtime), raise_server_exceptions=False) as test_client:
        yield test_client, {key: bearer(token) for key, token in make_tokens(runtime).items()}
    runtime.dispose()


def subscription(endpoint: str, *, content: str = "full-resource", filters=(), heartbeat: int | None = None,
                 headers=("Authorization: Bearer receiver-secret",)) -> dict:
    channel = {"type": "rest-hook", "endpoint": endpoint, "payload": "application/fhir+json",
               "_payload": {"extension": [{"url": research.PAYLOAD_CONTENT, "valueCode": content}]},
               "header": list(headers)}
    if heartbeat:
        channel["extension"] = [{"url": research.HEARTBEAT_PERIOD, "valueUnsignedInt": heartbeat}]
    resource = {"resourceType": "Subscription", "status": "requested", "reason": "CTMS screening list",
                "criteria": research.TOPIC_URL, "channel": channel}
    if filters:
        resource["_criteria"] = {"extension": [{"url": research.FILTER_CRITERIA, "valueString": f} for f in filters]}
    return valid(resource)


def subscribe(client, tokens, rt, endpoint, who="coordinator", **kwargs) -> dict:
    answer = client.post("/fhir/Subscription", json=subscription(endpoint, **kwargs), headers=tokens[who])
    assert answer.status_code == 201, answer.text
    made = valid(answer.json())
    assert made["status"] == "requested"
    run_pending(rt)
    return made


def candidate(client, tokens, rt, pid: str, site: str = "site-a") -> None:
    """A new candidate: a child eligible at its first screening raises one alert."""
    record = eligible_record(pid, DAY, site=site)
    record[0] = patient(pid, birth=BIRTH, site=site, mrn=f"{MRN}-{pid}") | {
        "name": [{"family": NAME, "given": ["Léa"]}]}
    for resource in record:
        if resource.get("code", {}).get("coding", [{}])[0].get("code") == "4996-5":
            resource["id"] = f"cmv-{pid}"  # replaced by ``cmv_positive``
    assert post_record(client, tokens, record).status_code == 202
    run_pending(rt)


def cmv_positive(client, tokens, rt, pid: str) -> None:
    """A positive CMV PCR, replacing the negative one: the child becomes ineligible (one alert)."""
    positive = coded(pid, "4996-5", DETECTED, DAY.isoformat(), oid=f"cmv-{pid}")
    answer = client.post("/fhir", json=bundle([positive]), headers=tokens["lab"])
    assert answer.status_code == 202, answer.text
    run_pending(rt)


def test_the_receiver_sees_the_handshake_then_events_1_to_n_in_order(client, tokens, rt, hook):
    made = subscribe(client, tokens, rt, hook.url)
    [handshake] = hook.received
    assert parameter(valid(handshake), "type") == "handshake"
    assert parameter(handshake, "status") == "requested"
    assert parameter(handshake, "events-since-subscription-start") == "0"
    assert hook.headers[0]["Authorization"] == "Bearer receiver-secret"
    assert hook.headers[0]["Content-Type"] == "application/fhir+json"
    assert client.get(f"/fhir/Subscription/{made['id']}", headers=tokens["coordinator"]).json()["status"] == "active"

    for pid in ("p-1", "p-2", "p-3"):
        candidate(client, tokens, rt, pid)
    candidate(client, tokens, rt, "p-9", site="site-b")  # another site: not this subscription's
    cmv_positive(client, tokens, rt, "p-2")

    events = hook.of_type("event-notification")
    assert hook.numbers() == [1, 2, 3, 4]
    for notification in events:
        valid(notification)
        assert notification["type"] == "history"
        assert parameter(notification, "subscription")["reference"] == f"{BASE}/fhir/Subscription/{made['id']}"
        assert parameter(notification, "topic") == research.TOPIC_URL
    focuses = [event_part(n, "focus")["reference"] for n in events]
    assert focuses == [f"{BASE}/fhir/ResearchSubject/{p}" for p in ("p-1", "p-2", "p-3", "p-2")]
    subjects = [n["entry"][1]["resource"] for n in events]
    assert [s["status"] for s in subjects] == ["candidate", "candidate", "candidate", "ineligible"]
    assert subjects[0]["extension"][0] == {"url": research.STATUS_EXTENSION, "valueCode": "eligible"}
    assert subjects[3]["extension"][0]["valueCode"] == "ineligible"
    assert all(s["individual"] == {"reference": f"Patient/{s['id']}"} for s in subjects)
    text = json.dumps(hook.received)
    assert NAME not in text and "Léa" not in text and BIRTH not in text and MRN not in text


def test_id_only_notifications_name_the_subject_without_the_resource(client, tokens, rt, hook):
    resource = subscription(hook.url, content="id-only", headers=()) | {
        "criteria": f"{BASE}/fhir/Basic/eligibility-changed"}  # the topic named by its R4 resource
    assert client.post("/fhir/Subscription", json=resource, headers=tokens["coordinator"]).status_code == 201
    run_pending(rt)
    candidate(client, tokens, rt, "p-1")
    [event] = hook.of_type("event-notification")
    valid(event)
    assert event["entry"][1] == {"fullUrl": f"{BASE}/fhir/ResearchSubject/p-1",
                                 "request": {"method": "PUT", "url": "ResearchSubject/p-1"},
                                 "response": {"status": "200"}}


def test_filters_site_and_status(client, tokens, rt, hook):
    admin_all = subscribe(client, tokens, rt, hook.url, who="admin")
    only_b = subscribe(client, tokens, rt, hook.url + "?b", who="admin", filters=["ResearchSubject?site=site-b"])
    ineligible = subscribe(client, tokens, rt, hook.url + "?inel", filters=["status=ineligible"])
    candidate(client, tokens, rt, "p-1")
    candidate(client, tokens, rt, "p-9", site="site-b")
    cmv_positive(client, tokens, rt, "p-1")

    def subjects_of(made):
        url = f"{BASE}/fhir/Subscription/{made['id']}"
        return [(int(event_part(n, "event-number")), n["entry"][1]["resource"]["id"])
                for n in hook.of_type("event-notification") if parameter(n, "subscription")["reference"] == url]

    assert subjects_of(admin_all) == [(1, "p-1"), (2, "p-9"), (3, "p-1")]
    assert subjects_of(only_b) == [(1, "p-9")]
    assert subjects_of(ineligible) == [(1, "p-1")]


def test_a_coordinator_cannot_subscribe_beyond_its_sites(client, tokens, rt, hook):
    beyond = subscription(hook.url, filters=["site=site-b"])
    answer = client.post("/fhir/Subscription", json=beyond, headers=tokens["coordinator"])
    assert answer.status_code == 403
    assert answer.json()["resourceType"] == "OperationOutcome"
    assert client.post("/fhir/Subscription", json=subscription(hook.url, filters=["site=site-a,site-b"]),
                       headers=tokens["coordinator"]).status_code == 403
    assert client.post("/fhir/Subscription", json=subscription(hook.url), headers=tokens["lab"]).status_code == 403
    made = subscribe(client, tokens, rt, hook.url)
    # A coordinator of another site neither sees nor ends it; an admin does.
    assert client.get(f"/fhir/Subscription/{made['id']}", headers=tokens["coordinator-site-b"]).status_code == 404
    assert client.delete(f"/fhir/Subscription/{made['id']}",
                         headers=tokens["coordinator-site-b"]).status_code == 404
    assert client.get(f"/fhir/Subscription/{made['id']}/$events",
                      headers=tokens["coordinator-site-b"]).status_code == 404
    candidate(client, tokens, rt, "p-9", site="site-b")
    assert hook.numbers() == []
    mine = valid(client.get("/fhir/Subscription", headers=tokens["coordinator"]).json())
    assert [e["resource"]["id"] for e in mine["entry"]] == [made["id"]]
    assert client.get("/fhir/Subscription", headers=tokens["coordinator-site-b"]).json()["total"] == 0
    assert client.get("/fhir/Subscription", headers=tokens["admin"]).json()["total"] == 1


@pytest.mark.parametrize("change, words", [
    (lambda s: s | {"criteria": "Patient?"}, "criteria"),
    (lambda s: s | {"channel": s["channel"] | {"type": "websocket"}}, "channel.type"),
    (lambda s: s | {"channel": s["channel"] | {"endpoint": "ftp://x"}}, "endpoint"),
    (lambda s: s | {"_criteria": {"extension": [{"url": research.FILTER_CRITERIA, "valueString": "code=x"}]}},
     "site and status"),
    (lambda s: s | {"_criteria": {"extension": [{"url": research.FILTER_CRITERIA, "valueString": "status=gone"}]}},
     "status is one of"),
    (lambda s: s | {"channel": s["channel"] | {"_payload": {"extension": [
        {"url": research.PAYLOAD_CONTENT, "valueCode": "empty"}]}}}, "id-only or full-resource"),
    (lambda s: s | {"channel": s["channel"] | {"header": ["no colon"]}}, "header"),
    (lambda s: s | {"channel": s["channel"] | {"header": ["X-Site: Hôpital"]}}, "header"),
    (lambda s: s | {"channel": s["channel"] | {"endpoint": "https://ctms.example/a b"}}, "endpoint"),
])
def test_a_subscription_that_does_not_fit_is_answered_400(refusing, change, words):
    client, tokens = refusing
    answer = client.post("/fhir/Subscription", json=change(subscription("https://ctms.example.org/hook")),
                         headers=tokens["coordinator"])
    assert answer.status_code == 400, answer.text
    assert words in answer.json()["issue"][0]["diagnostics"]


def test_a_refused_handshake_leaves_the_subscription_in_error(client, tokens, rt, hook):
    hook.answer = 401
    made = subscribe(client, tokens, rt, hook.url)
    read = client.get(f"/fhir/Subscription/{made['id']}", headers=tokens["coordinator"]).json()
    assert read["status"] == "error" and read["error"] == "endpoint answered 401"
    hook.answer = 200
    candidate(client, tokens, rt, "p-1")
    assert hook.received == []
    listed = client.get("/deliveries", headers=tokens["coordinator"]).json()
    assert [d for d in listed if d["channel"] == "fhir"] == []


def _fail_for_good(rt, clock_steps: int = 6) -> None:
    """Let every retry of the pending deliveries come due and fail (30 s, 1, 2, 4, 8 min)."""
    for _ in range(clock_steps):
        rt.clock.advance(16 * 60)
        tasks.sweep.run()
        run_pending(rt)


def test_events_fill_the_gap_the_receiver_made_by_answering_500(client, tokens, rt, hook):
    made = subscribe(client, tokens, rt, hook.url)
    candidate(client, tokens, rt, "p-1")
    hook.refuse_events = {2}
    candidate(client, tokens, rt, "p-2")
    candidate(client, tokens, rt, "p-3")
    assert hook.refused == 1 and hook.numbers() == [1]  # event 2 failed; event 3 waits behind it
    _fail_for_good(rt)
    assert hook.refused == 6  # every retry of event 2 (the deliveries' backoff), then given up
    hook.refuse_events = set()
    candidate(client, tokens, rt, "p-4")
    assert hook.numbers() == [1, 3, 4]  # event 2 given up after its retries: a gap the receiver sees

    status = valid(client.get(f"/fhir/Subscription/{made['id']}/$status", headers=tokens["coordinator"]).json())
    assert status["type"] == "searchset"
    assert parameter(status, "events-since-subscription-start") == "4"
    seen = set(hook.numbers())
    missing = [n for n in range(1, 5) if n not in seen]
    caught = client.get(f"/fhir/Subscription/{made['id']}/$events?eventsSinceNumber={missing[0]}"
                        f"&eventsUntilNumber={missing[-1]}", headers=tokens["coordinator"])
    assert caught.status_code == 200
    replay = valid(caught.json())
    assert parameter(replay, "type") == "query-event"
    assert event_part(replay, "event-number") == "2"
    assert replay["entry"][1]["resource"]["id"] == "p-2"
    everything = valid(client.get(f"/fhir/Subscription/{made['id']}/$events", headers=tokens["coordinator"]).json())
    assert [int(event_part(everything, "event-number", i)) for i in range(4)] == [1, 2, 3, 4]
    # The failed delivery is visible and retryable like an alert's: sent again, as event 2.
    failed = [d for d in client.get("/deliveries?status=failed", headers=tokens["coordinator"]).json()
              if d["channel"] == "fhir"]
    assert [d["patient"] for d in failed] == ["p-2"]
    assert client.post(f"/deliveries/{failed[0]['id']}/retry", headers=tokens["coordinator"]).status_code == 200
    run_pending(rt)
    assert hook.numbers() == [1, 3, 4, 2]


def test_an_event_waits_while_an_earlier_one_is_retried(client, tokens, rt, hook):
    subscribe(client, tokens, rt, hook.url)
    hook.answer = 503
    candidate(client, tokens, rt, "p-1")
    candidate(client, tokens, rt, "p-2")
    hook.answer = 200
    rt.clock.advance(31)
    tasks.sweep.run()
    run_pending(rt)
    assert hook.numbers() == [1, 2]


def test_heartbeats_as_asked(client, tokens, rt, hook):
    subscribe(client, tokens, rt, hook.url, heartbeat=60)
    assert tasks.fhir_heartbeats.run() == 0
    rt.clock.advance(61)
    assert tasks.fhir_heartbeats.run() == 1
    [beat] = hook.of_type("heartbeat")
    assert parameter(valid(beat), "events-since-subscription-start") == "0"
    assert tasks.fhir_heartbeats.run() == 0


def test_a_deleted_subscription_is_off_and_told_nothing_more(client, tokens, rt, hook):
    made = subscribe(client, tokens, rt, hook.url)
    hook.answer = 503
    candidate(client, tokens, rt, "p-0")  # event 1, pending a retry when the subscription ends
    hook.answer = 200
    assert client.delete(f"/fhir/Subscription/{made['id']}", headers=tokens["coordinator"]).status_code == 204
    assert client.get(f"/fhir/Subscription/{made['id']}", headers=tokens["coordinator"]).json()["status"] == "off"
    candidate(client, tokens, rt, "p-1")
    rt.clock.advance(60)
    assert tasks.sweep.run()["retries"] == 0
    assert hook.numbers() == []
    listed = client.get("/deliveries", headers=tokens["coordinator"]).json()
    assert [(d["status"], d["last_error"]) for d in listed] == [("stopped", "subscription off")]
    kept = client.get(f"/fhir/Subscription/{made['id']}/$events", headers=tokens["coordinator"]).json()
    assert event_part(kept, "event-number") == "1"


def _shape(value):
    """The structure of a JSON value: keys and the kinds of values, never the values (ids, times)."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items() if k not in ("id", "text")}
    if isinstance(value, list):
        return [_shape(value[0])] if value else []
    return type(value).__name__


# The structure of the IG 1.1 R4 examples (Bundle-r4-notification-full-resource, -id-only,
# -handshake): a history Bundle whose first entry is the backport status Parameters, with the request
# of $status, then one entry per focus. Values here are placeholders; only their structure is compared.
IG_STATUS = {"resourceType": "Parameters", "id": "x",
             "meta": {"profile": ["http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/"
                                  "backport-subscription-status-r4"]},
             "parameter": [
                 {"name": "subscription", "valueReference": {"reference": "https://example.org/Subscription/1"}},
                 {"name": "topic", "valueCanonical": "http://example.org/topic"},
                 {"name": "status", "valueCode": "active"},
                 {"name": "type", "valueCode": "event-notification"},
                 {"name": "events-since-subscription-start", "valueString": "2"},
                 {"name": "notification-event", "part": [
                     {"name": "event-number", "valueString": "2"},
                     {"name": "timestamp", "valueInstant": "2020-05-29T11:44:13.1882432-05:00"},
                     {"name": "focus", "valueReference": {"reference": "https://example.org/Encounter/1"}}]}]}
IG_NOTIFICATION = {"resourceType": "Bundle", "id": "x",
                   "meta": {"profile": ["http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/"
                                        "backport-subscription-notification-r4"]},
                   "type": "history", "timestamp": "2020-05-29T11:44:13.1882432-05:00",
                   "entry": [{"fullUrl": "urn:uuid:x", "resource": IG_STATUS,
                              "request": {"method": "GET", "url": "https://example.org/Subscription/1/$status"},
                              "response": {"status": "200"}}]}


def _same_structure(ours: dict, theirs: dict) -> None:
    mine, ig = _shape(ours), _shape(theirs)
    assert mine["type"] == ig["type"] == "str" and ours["type"] == theirs["type"]
    assert set(ig) <= set(mine)
    assert mine["entry"][0] == ig["entry"][0]
    names = [p["name"] for p in ours["entry"][0]["resource"]["parameter"]]
    assert names[:5] == [p["name"] for p in IG_STATUS["parameter"]][:5]


def test_notifications_have_the_structure_of_the_ig_examples(client, tokens, rt, hook):
    subscribe(client, tokens, rt, hook.url)
    candidate(client, tokens, rt, "p-1")
    handshake, event = hook.received
    _same_structure(event, IG_NOTIFICATION)
    ours_event = next(p for p in event["entry"][0]["resource"]["parameter"] if p["name"] == "notification-event")
    assert _shape(ours_event) == _shape(IG_STATUS["parameter"][5])
    handshake_shape = IG_NOTIFICATION | {"entry": [IG_NOTIFICATION["entry"][0] | {"resource": IG_STATUS | {
        "parameter": IG_STATUS["parameter"][:5]}}]}
    _same_structure(handshake, handshake_shape)
    assert event["entry"][1]["request"]["method"] in ("POST", "PUT", "GET")


def test_subscription_list_shows_fhir_beside_email_and_webhook(client, tokens, rt, hook):
    from tests.unit.test_admin_commands import myocit

    client.post("/subscriptions", json={"site": "site-a", "channel": "email", "target": "c@site-a.example.org"},
                headers=tokens["admin"])
    made = subscribe(client, tokens, rt, hook.url)
    candidate(client, tokens, rt, "p-1")
    candidate(client, tokens, rt, "p-2")
    listed = myocit(rt.settings.home, "subscription", "list")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.strip().splitlines()
    assert "1\tsite-a\temail\tc@site-a.example.org\tactive\t-" in lines
    assert f"{made['id']}\tsite-a\tfhir\t{hook.url}\tactive\tlast event 2\t-" in lines


def test_a_handshake_never_sent_is_sent_by_the_sweeper(client, tokens, rt, hook):
    answer = client.post("/fhir/Subscription", json=subscription(hook.url), headers=tokens["coordinator"])
    assert answer.status_code == 201
    rt.celery.sent.clear()  # the process stopped before its task reached a worker
    assert hook.received == []
    rt.clock.advance(rt.settings.sweep_after_seconds + 1)
    tasks.sweep.run()
    run_pending(rt)
    assert [parameter(n, "type") for n in hook.received] == ["handshake"]
    assert client.get(f"/fhir/Subscription/{answer.json()['id']}", headers=tokens["coordinator"]).json()[
        "status"] == "active"


def test_deactivating_a_fhir_subscription_as_any_other_turns_it_off(client, tokens, rt, hook):
    made = subscribe(client, tokens, rt, hook.url)
    listed = client.get("/subscriptions", headers=tokens["admin"]).json()
    assert [(s["channel"], s["status"], s["last_event_number"]) for s in listed] == [("fhir", "active", 0)]
    assert client.post(f"/subscriptions/{made['id']}/deactivate", headers=tokens["admin"]).status_code == 200
    assert client.get(f"/fhir/Subscription/{made['id']}", headers=tokens["admin"]).json()["status"] == "off"
    candidate(client, tokens, rt, "p-1")
    assert hook.numbers() == []


@pytest.mark.parametrize("raw", [
    b"", b"[]", b'"x"', b"{", b'{"resourceType": "Subscription"}', b"[" * 200 + b"]" * 200,
    json.dumps({"resourceType": "Subscription", "criteria": research.TOPIC_URL, "channel": []}).encode(),
    json.dumps({"resourceType": "Subscription", "criteria": research.TOPIC_URL, "_criteria": "x",
                "channel": {"type": "rest-hook", "endpoint": "https://x.example", "_payload": "x",
                            "extension": ["x"], "header": "x"}}).encode(),
    json.dumps({"resourceType": "Subscription", "criteria": research.TOPIC_URL, "reason": 3,
                "channel": {"type": "rest-hook", "endpoint": "https://x.example", "extension": [
                    {"url": research.HEARTBEAT_PERIOD, "valueUnsignedInt": True}]}}).encode(),
])
def test_no_subscription_body_answers_500(refusing, raw):
    client, tokens = refusing
    answer = client.post("/fhir/Subscription", content=raw, headers=tokens["coordinator"] | {
        "Content-Type": "application/fhir+json"})
    assert answer.status_code == 400, answer.text
    assert answer.json()["resourceType"] == "OperationOutcome"


@pytest.mark.parametrize("path", [
    "/fhir/Subscription/abc", "/fhir/Subscription/0", "/fhir/Subscription/²", "/fhir/Subscription/%C2%B2/$status", "/fhir/Subscription/99999999999999999999999",
    "/fhir/Subscription/-1/$status", "/fhir/Subscription/9223372036854775808/$events",
    "/fhir/ResearchSubject/" + "x" * 300, "/fhir/Basic/other",
])
def test_unknown_ids_are_not_found(refusing, path):
    client, tokens = refusing
    assert client.get(path, headers=tokens["admin"]).status_code == 404


def test_event_numbers_out_of_range_are_bad_requests(client, tokens, rt, hook):
    made = subscribe(client, tokens, rt, hook.url)
    for query in ("eventsSinceNumber=0", "eventsUntilNumber=-3", "eventsSinceNumber=x",
                  "eventsSinceNumber=99999999999999999999999"):
        answer = client.get(f"/fhir/Subscription/{made['id']}/$events?{query}", headers=tokens["coordinator"])
        assert answer.status_code == 400, query
