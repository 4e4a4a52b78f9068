"""Criteria for girls after menarche: pregnancy test, contraception, pregnancy and breastfeeding."""

from __future__ import annotations

from domain.context import Context
from domain.criteria.base import criterion, judged, unknown
from domain.verdicts import Finding, Kind


@criterion("INC-WOCBP-HCG", Kind.INCLUSION)
def negative_bhcg_after_menarche(ctx: Context) -> Finding:
    """"For patients of childbearing age (following menarche) : Negative βHCG"
    """
    return unknown("Not evaluated yet")


@criterion("INC-WOCBP-CONTRACEPTION", Kind.INCLUSION, attested=True)
def effective_contraception_after_menarche(ctx: Context) -> Finding:
    """"For patients of childbearing age (following menarche) : ... effective method of contraception (sexual abstinence, hormonal contraception, intrauterine device or hormone-releasing system, cap, diaphragm or sponge with spermicide, condom) until the 7 days after administration of the last dose of Baricitinib"
    """
    return judged(ctx, "INC-WOCBP-CONTRACEPTION", None)


@criterion("EXC-PREG-BF", Kind.EXCLUSION, attested=True)
def pregnant_or_breastfeeding(ctx: Context) -> Finding:
    """"Actual or in project of pregrancy and breast-feeding until the 7 days after administration of the last dose of Baricitinib"
    """
    return judged(ctx, "EXC-PREG-BF", None)
