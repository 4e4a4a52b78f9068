"""Who a person signed in through the hospital's OpenID provider is to myocit (contract §14): the
groups the provider names them in, matched against the group mappings an administrator keeps
(``myocit access map``), give one role and the union of the mappings' sites, or a refusal in a
plain sentence. Pure: the store looks the mappings up, the service writes what is decided."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

MAPPING_ROLES = ("coordinator", "investigator", "admin", "monitor")
"""The roles a group mapping may carry; ``monitor`` is the sponsor's (§17)."""
SITE_BOUND_MAPPING_ROLES = ("coordinator", "investigator", "monitor")
MAX_GROUP_LENGTH = 255
MAX_SITE_LENGTH = 64


@dataclass(frozen=True)
class GroupMapping:
    """One active mapping: people in ``group`` get ``role`` for ``sites`` (an admin: every site)."""

    pk: int
    group: str
    role: str
    sites: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Granted:
    """What a sign-in grants: the role, the union of the sites, and the mappings that granted it (so
    unmapping one ends the sessions it granted)."""

    role: str
    sites: frozenset[str]
    mapping_pks: frozenset[int]


@dataclass(frozen=True)
class SignInRefused:
    """Why a person may not sign in, as the sign-in page says it."""

    sentence: str


NO_GROUP = SignInRefused("Your hospital account is in no group that has access to myocit. Ask the trial's "
                         "administrator to give your group access.")


def grant(groups: Iterable[str], mappings: Iterable[GroupMapping]) -> Granted | SignInRefused:
    """The role of the mappings the person's groups match and the union of their sites; refused when
    no group matches or the matching groups give more than one role (nobody gets a role by accident
    of which group was read first)."""
    named = set(groups)
    matching = [m for m in mappings if m.group in named]
    if not matching:
        return NO_GROUP
    roles = sorted({m.role for m in matching})
    if len(roles) > 1:
        return SignInRefused(f"Your hospital groups give more than one role in myocit ({', '.join(roles)}), so "
                             "none is given. Ask the trial's administrator to map your groups to one role.")
    role = roles[0]
    sites = frozenset() if role == "admin" else frozenset().union(*(m.sites for m in matching))
    return Granted(role, sites, frozenset(m.pk for m in matching))


def mapping_problem(group: str, role: str, sites: Iterable[str]) -> str | None:
    """Why a mapping cannot be made as given, in a sentence naming the option; None when it can."""
    if not group.strip() or len(group.strip()) > MAX_GROUP_LENGTH:
        return f"GROUP: 1 to {MAX_GROUP_LENGTH} characters, as the provider writes it in the groups claim"
    if role not in MAPPING_ROLES:
        return f"--role must be one of {', '.join(MAPPING_ROLES)}"
    clean = {s.strip() for s in sites if s.strip()}
    if role in SITE_BOUND_MAPPING_ROLES and not clean:
        return f"a {role} mapping needs at least one --site (contract §13, §14)"
    if role == "admin" and clean:
        return "an admin acts for every site: give no --site"
    if any(len(s) > MAX_SITE_LENGTH or "," in s for s in clean):
        return f"a site is at most {MAX_SITE_LENGTH} characters, without commas"
    return None


def reauthentication_problem(signer: tuple[str, str], vouched: tuple[str, str], auth_time: int | float | None,
                             signing_began: float) -> str | None:
    """Why the provider's answer does not re-authenticate the signer for a signature (contract §9,
    §14), or None: the same person (issuer and ``sub``) must have entered their credentials again
    after the signing began. ``auth_time`` and ``signing_began`` are seconds since the epoch; the
    provider counts whole seconds, so the second the signing began counts as after it."""
    if vouched != signer:
        return "The hospital account that signed in again is not the one signing. Nothing was signed."
    if not isinstance(auth_time, (int, float)) or isinstance(auth_time, bool):
        return "The hospital's sign-in service did not say when you signed in again. Nothing was signed."
    if auth_time < int(signing_began):
        return "You were not asked for your credentials again for this signature. Nothing was signed."
    return None
