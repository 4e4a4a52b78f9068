"""Contract §13: identifier systems bound to sites. A site's record numbers (its identifier system)
can no longer be registered on another site's child, so that child's own site is never refused it."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from service.commands import BindIdentifierSystem, UnbindIdentifierSystem
from service.identifier_systems import bind_identifier_system, unbind_identifier_system
from store.models import Message, Patient, PatientIdentifier
from tests.api.test_identity import MRN_A, MRN_B, post_batch, post_resource, post_transaction, registered
from tests.fhir_samples import bundle

PATHS = [post_transaction, post_batch, post_resource]


def _stored(rt) -> tuple[int, int, int]:
    with rt.uow() as uow:
        return tuple(uow.session.scalar(select(func.count()).select_from(table))
                     for table in (Message, Patient, PatientIdentifier))


@pytest.fixture()
def necker_numbers(rt):
    bind_identifier_system(BindIdentifierSystem(MRN_A, ("site-a",), "test"), rt.uow(), clock=rt.clock)
    return rt


@pytest.mark.parametrize("post", PATHS)
def test_another_sites_patient_carrying_a_bound_system_is_refused_and_nothing_stored(client, tokens, necker_numbers,
                                                                                      post):
    before = _stored(necker_numbers)
    status, response = post(client, tokens["lab-site-b"], registered("kid-b", "site-b", (MRN_A, "A-222")))
    assert status == 403
    assert "A-222" not in response.text
    assert _stored(necker_numbers)[1:] == before[1:]


def test_the_real_child_then_registers_its_own_number(client, tokens, necker_numbers):
    assert post_resource(client, tokens["lab-site-b"], registered("pre", "site-b", (MRN_A, "A-222")))[0] == 403
    assert post_resource(client, tokens["lab"], registered("kid-a", "site-a", (MRN_A, "A-222")))[0] == 202
    assert post_resource(client, tokens["lab-site-b"], registered("kid-b", "site-b", (MRN_B, "A-222")))[0] == 202


def test_a_batch_refuses_only_the_entry_of_the_other_site(client, tokens, necker_numbers):
    resources = [registered("kid-b", "site-b", (MRN_B, "B-1")), registered("kid-x", "site-b", (MRN_A, "A-9"))]
    response = client.post("/fhir", json=bundle(resources, "batch"), headers=tokens["lab-site-b"])
    assert [e["response"]["status"].split()[0] for e in response.json()["entry"]] == ["202", "403"]
    with necker_numbers.uow() as uow:
        assert uow.session.scalars(select(Patient.id).order_by(Patient.id)).all() == ["kid-b"]


def test_a_system_bound_to_both_sites_and_unbound(client, tokens, rt):
    bind_identifier_system(BindIdentifierSystem(MRN_A, ("site-a", "site-b"), "test"), rt.uow(), clock=rt.clock)
    assert post_resource(client, tokens["lab-site-b"], registered("kid-b", "site-b", (MRN_A, "A-1")))[0] == 202
    unbind_identifier_system(UnbindIdentifierSystem(MRN_A, ("site-a",), "test"), rt.uow(), clock=rt.clock)
    assert post_resource(client, tokens["lab"], registered("kid-a", "site-a", (MRN_A, "A-2")))[0] == 403
    unbind_identifier_system(UnbindIdentifierSystem(MRN_A, (), "test"), rt.uow(), clock=rt.clock)
    assert post_resource(client, tokens["lab"], registered("kid-a", "site-a", (MRN_A, "A-2")))[0] == 202
