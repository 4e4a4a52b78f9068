"""The 34 MYOCIT criteria, in the contract's order (contract §1)."""

from domain.criteria import (  # noqa: F401 - importing registers the rules
    administrative,
    history,
    infections,
    inclusion,
    kidney,
    laboratory,
    medications,
    reproductive,
)
from domain.criteria.base import REGISTRY, Criterion

ORDER = (
    "INC-AGE",
    "INC-JDM-ENMC2018",
    "INC-WEAKNESS",
    "INC-VZV-SERO",
    "INC-WOCBP-HCG",
    "INC-WOCBP-CONTRACEPTION",
    "INC-CONSENT",
    "INC-SOCSEC",
    "EXC-AMYOPATHIC",
    "EXC-ORAL",
    "EXC-PRIOR-JAKI",
    "EXC-PRIOR-IS",
    "EXC-PRIOR-CS",
    "EXC-CANCER-HX",
    "EXC-LIVE-VACCINE",
    "EXC-INF-ACTIVE",
    "EXC-INF-HBV",
    "EXC-INF-HCV",
    "EXC-INF-HIV",
    "EXC-INF-TB",
    "EXC-CMV-PCR",
    "EXC-CRCL",
    "EXC-ALC",
    "EXC-ANC",
    "EXC-HB",
    "EXC-HSV-12W",
    "EXC-APL",
    "EXC-THROMBOSIS-HX",
    "EXC-VTE-RISK",
    "EXC-SEVERE-JDM",
    "EXC-SEVERE-OTHER",
    "EXC-PREG-BF",
    "EXC-AME",
    "EXC-OTHER-TRIAL",
)

if set(ORDER) != set(REGISTRY) or len(ORDER) != 34:
    missing = sorted(set(ORDER) - set(REGISTRY))
    extra = sorted(set(REGISTRY) - set(ORDER))
    raise RuntimeError(f"criteria registry out of step with the contract: missing {missing}, extra {extra}")

CRITERIA: tuple[Criterion, ...] = tuple(REGISTRY[cid] for cid in ORDER)

__all__ = ["CRITERIA", "ORDER", "Criterion"]
