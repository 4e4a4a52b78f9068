"""Contract §14: a person's groups, matched against the group mappings, give one role and the union
of the sites, or a refusal in a plain sentence; and which mappings can be made."""

from __future__ import annotations

import pytest

from domain.access import NO_GROUP, Granted, GroupMapping, SignInRefused, grant, mapping_problem

MAPPINGS = (
    GroupMapping(1, "necker-coordinators", "coordinator", frozenset({"necker"})),
    GroupMapping(2, "debre-coordinators", "coordinator", frozenset({"debre"})),
    GroupMapping(3, "necker-investigators", "investigator", frozenset({"necker"})),
    GroupMapping(4, "trial-admins", "admin"),
    GroupMapping(5, "sponsor", "monitor", frozenset({"necker", "debre"})),
    GroupMapping(6, "necker-coordinators", "coordinator", frozenset({"necker-annexe"})),
)


@pytest.mark.parametrize(("groups", "expected"), [
    (["necker-coordinators"], Granted("coordinator", frozenset({"necker", "necker-annexe"}), frozenset({1, 6}))),
    (["necker-coordinators", "debre-coordinators", "staff"],
     Granted("coordinator", frozenset({"necker", "debre", "necker-annexe"}), frozenset({1, 2, 6}))),
    (["necker-investigators"], Granted("investigator", frozenset({"necker"}), frozenset({3}))),
    (["trial-admins"], Granted("admin", frozenset(), frozenset({4}))),
    (["sponsor"], Granted("monitor", frozenset({"necker", "debre"}), frozenset({5}))),
    ([], NO_GROUP),
    (["staff", "Necker-Coordinators"], NO_GROUP),
])
def test_groups_give_one_role_and_the_union_of_sites(groups, expected):
    assert grant(groups, MAPPINGS) == expected


@pytest.mark.parametrize("groups", [["necker-coordinators", "necker-investigators"], ["trial-admins", "sponsor"]])
def test_groups_giving_two_roles_are_refused_in_a_sentence(groups):
    refused = grant(groups, MAPPINGS)
    assert isinstance(refused, SignInRefused) and "more than one role" in refused.sentence


def test_no_mapping_at_all_refuses_everyone():
    assert grant(["necker-coordinators"], ()) == NO_GROUP


@pytest.mark.parametrize(("group", "role", "sites", "problem"), [
    ("g", "coordinator", ["necker"], None),
    ("g", "monitor", ["necker", "debre"], None),
    ("g", "admin", [], None),
    ("", "coordinator", ["necker"], "GROUP"),
    ("g" * 256, "coordinator", ["necker"], "GROUP"),
    ("g", "lab", ["necker"], "--role must be one of coordinator, investigator, admin, monitor"),
    ("g", "investigator", [" "], "needs at least one --site"),
    ("g", "monitor", [], "needs at least one --site"),
    ("g", "admin", ["necker"], "give no --site"),
    ("g", "coordinator", ["a,b"], "without commas"),
])
def test_which_mappings_can_be_made(group, role, sites, problem):
    found = mapping_problem(group, role, sites)
    assert found is None if problem is None else problem in found


NURSE = ("https://idp.example.org", "nurse-1")


@pytest.mark.parametrize(("vouched", "auth_time", "problem"), [
    (NURSE, 1_000, None),
    (NURSE, 1_007, None),
    (NURSE, 999, "not asked for your credentials again"),
    (NURSE, None, "did not say when"),
    (NURSE, True, "did not say when"),
    (("https://idp.example.org", "doctor-1"), 1_007, "not the one signing"),
    (("https://other.example.org", "nurse-1"), 1_007, "not the one signing"),
])
def test_a_signature_needs_the_same_person_reauthenticated_after_it_began(vouched, auth_time, problem):
    from domain.access import reauthentication_problem

    found = reauthentication_problem(NURSE, vouched, auth_time, 1_000.4)
    assert found is None if problem is None else problem in found
