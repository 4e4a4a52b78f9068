"""Inclusion criteria about the disease, the child and immunity."""

from __future__ import annotations

from domain.context import Context, add_years
from domain.criteria.base import criterion, fails, judged, passes, unknown
from domain.verdicts import Finding, Kind


@criterion("INC-AGE", Kind.INCLUSION)
def aged_3_to_18(ctx: Context) -> Finding:
    """"Patient aged 3-18 years with new-onset juvenile dermatomyositis"

    Age in completed years at ``as_of``; passes from the 3rd birthday to the day before the 19th
    (``age.rule: inclusive``), or before the 18th (``exclusive``).
    """
    profile = ctx.profile
    if profile is None or profile.birth_date is None:
        return unknown("No birth date recorded")
    rule = ctx.protocol.age
    born = profile.birth_date
    first_day = add_years(born, rule.minimum_years)
    last_birthday = rule.maximum_years + 1 if rule.rule == "inclusive" else rule.maximum_years
    too_old_on = add_years(born, last_birthday)
    age = ctx.age()
    if ctx.as_of < first_day:
        return fails(
            f"Aged {age}: turns {rule.minimum_years} on {first_day.isoformat()}", until=first_day
        )
    if ctx.as_of >= too_old_on:
        return fails(f"Aged {age}: {last_birthday} or older since {too_old_on.isoformat()}")
    return passes(
        f"Aged {age}, within {rule.minimum_years}-{rule.maximum_years} years", changes_on=too_old_on
    )


@criterion("INC-JDM-ENMC2018", Kind.INCLUSION, attested=True)
def new_onset_jdm_by_enmc_2018(ctx: Context) -> Finding:
    """"with new-onset juvenile dermatomyositis, according to the ENMC 2018 dermatomyositis classification criteria"
    """
    return judged(ctx, "INC-JDM-ENMC2018", None)


@criterion("INC-WEAKNESS", Kind.INCLUSION)
def muscle_weakness(ctx: Context) -> Finding:
    """"Muscle weakness at MMT and/or CMAS (MMT < 74 and/or CMAS < 45)"
    """
    return unknown("Not evaluated yet")


@criterion("INC-VZV-SERO", Kind.INCLUSION)
def seropositive_for_chickenpox(ctx: Context) -> Finding:
    """"Seropositivity for chickenpox"
    """
    return unknown("Not evaluated yet")
