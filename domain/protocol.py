"""The protocol as data: thresholds, windows, result validity, wording choices and code lists.

The values live in versioned data files under ``config/protocols``; this module only says what shape
they must have and refuses a definition that is incomplete or inconsistent when it loads.
"""

from __future__ import annotations

from datetime import timedelta
from functools import cached_property
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from domain.codes import CodeSet

FACT_FAMILIES = ("lab.", "vital.", "obs.", "assessment.", "dx.", "med.", "vax.")
"""A code list's name starts with the family of facts it classifies (labs, vitals, ... vaccines)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AgeRule(_Strict):
    minimum_years: int = 3
    maximum_years: int = 18
    rule: Literal["inclusive", "exclusive"] = "inclusive"
    """``inclusive``: eligible up to the day before the (maximum + 1)th birthday; ``exclusive``:
    up to the day before the maximum-th birthday (the strict reading of "3-18")."""
    menarche_presumed_absent_below_years: int = 8


class Thresholds(_Strict):
    lymphocytes_below_10e9_l: float = 0.5
    neutrophils_below_10e9_l: float = 1.0
    haemoglobin_below_g_dl: float = 8.0
    clearance_below_ml_min_173: float = 40.0
    mmt8_below: float = 74
    mmt8_maximum: float = 80
    cmas_below: float = 45
    cmas_maximum: float = 52
    corticosteroid_dose_above_mg_kg_day: float = 1.0
    hcg_negative_below_iu_l: float = 5.0
    hcg_positive_from_iu_l: float = 25.0
    schwartz_k: float = 0.413


class Windows(_Strict):
    """Days before ``as_of`` that an event counts for; inclusive (contract §1, Time)."""

    live_vaccine: int = 28
    active_infection: int = 28
    symptomatic_hsv: int = 84
    prior_corticosteroids: int = 31
    passive_antibodies: int = 90
    height_before_creatinine: int = 30


class Validity(_Strict):
    """Days a result stays usable before ``as_of``; ``None`` means it never goes stale."""

    blood_count: int = 28
    haemoglobin: int = 28
    creatinine: int = 28
    height: int = 28
    cmv_pcr: int = 28
    antiphospholipid: int = 28
    hepatitis_hiv: int = 28
    vzv_negative: int = 28
    vzv_positive: int | None = None
    muscle_score: int = 28
    igra: int = 90
    hcg: int = 3
    pregnancy_status: int = 3
    breastfeeding_status: int = 28
    weight: int = 90
    attestation: int = 28


class Choices(_Strict):
    """How the protocol's ambiguous sentences are read (criteria-catalogue §6)."""

    accept_documented_varicella_vaccination: bool = False
    cmv_detected_below_lloq: Literal["fail", "review"] = "fail"
    antiphospholipid_low_titre: Literal["fail", "review"] = "fail"
    cytopenia_logic: Literal["either"] = "either"
    renal_equation: Literal["bedside_schwartz"] = "bedside_schwartz"
    corticosteroid_low_dose_start: Literal["review", "fail"] = "review"


class CodeList(_Strict):
    system: str
    codes: list[str] = Field(min_length=1)
    note: str | None = None


class Protocol(_Strict):
    protocol: str = "MYOCIT"
    version: str
    age: AgeRule = AgeRule()
    thresholds: Thresholds = Thresholds()
    windows: Windows = Windows()
    validity: Validity = Validity()
    choices: Choices = Choices()
    corticosteroid_potency: dict[str, float] = Field(default_factory=dict)
    """Prednisone-equivalent factor per ATC code (mg prednisone per mg of the drug)."""
    code_lists: dict[str, list[CodeList]] = Field(default_factory=dict)
    """Each list may hold codes of several systems (LOINC and SNOMED, CVX and ATC, ...)."""

    @field_validator("code_lists")
    @classmethod
    def _families(cls, lists: dict[str, list[CodeList]]) -> dict[str, list[CodeList]]:
        for name in lists:
            if not name.startswith(FACT_FAMILIES):
                raise ValueError(f"code list {name!r} must start with one of {FACT_FAMILIES}")
        return lists

    @model_validator(mode="after")
    def _compiles(self) -> "Protocol":
        missing = sorted(REQUIRED_CODE_LISTS - self.code_lists.keys())
        if missing:
            raise ValueError(f"protocol {self.version}: code lists missing: {', '.join(missing)}")
        self.codesets  # noqa: B018 - a bad pattern must fail at load, not at first use
        return self

    @cached_property
    def codesets(self) -> dict[str, CodeSet]:
        compiled = {}
        for name, parts in self.code_lists.items():
            by_system: dict[str, list[str]] = {}
            for part in parts:
                by_system.setdefault(part.system, []).extend(part.codes)
            compiled[name] = CodeSet(name, by_system)
        return compiled

    @cached_property
    def _classified(self) -> dict[tuple, tuple[str, ...]]:
        return {}

    def classify(self, prefixes: tuple[str, ...], codes: tuple) -> tuple[str, ...]:
        """The code lists (of the families ``prefixes``) that any of ``codes`` belongs to.

        Memoised: a record is built from the same few codes over and over (every haemoglobin is
        718-7), and the protocol never changes once loaded.
        """
        key = (prefixes, codes)
        found = self._classified.get(key)
        if found is None:
            found = tuple(
                name for name, codeset in self.codesets.items()
                if name.startswith(prefixes) and codeset.matches(codes) is not None
            )
            if len(self._classified) < 100_000:
                self._classified[key] = found
        return found

    @cached_property
    def potency_by_code(self) -> dict[str, float]:
        """``corticosteroid_potency`` keyed by normalised ATC code (upper case, no dots)."""
        return {k.strip().upper().replace(".", ""): v for k, v in self.corticosteroid_potency.items()}

    def days(self, n: int) -> timedelta:
        return timedelta(days=n)


REQUIRED_CODE_LISTS = frozenset(
    {
        "lab.lymphocytes",
        "lab.lymphocytes_pct",
        "lab.neutrophils",
        "lab.neutrophils_pct",
        "lab.leukocytes",
        "lab.haemoglobin",
        "lab.creatinine",
        "lab.creatinine_clearance",
        "lab.egfr_paediatric",
        "lab.cmv_blood",
        "lab.cmv_other_specimen",
        "lab.vzv_igg",
        "lab.hbsag",
        "lab.anti_hbc",
        "lab.hbv_dna",
        "lab.hcv_ab",
        "lab.hcv_rna",
        "lab.hiv_screen",
        "lab.hiv_confirmatory",
        "lab.igra",
        "lab.anticardiolipin",
        "lab.anti_b2gp1",
        "lab.lupus_anticoagulant",
        "lab.hcg",
        "vital.height",
        "vital.weight",
        "obs.pregnancy_status",
        "obs.breastfeeding_status",
        "assessment.mmt8",
        "assessment.mmt8_bilateral",
        "assessment.cmas",
        "assessment.menarche",
        "dx.jdm",
        "dx.amyopathic",
        "dx.dysphagia",
        "dx.cancer",
        "dx.cancer_borderline",
        "dx.hsv",
        "dx.thrombosis",
        "dx.thrombophilia",
        "dx.infection",
        "dx.hbv",
        "dx.hcv",
        "dx.hiv",
        "dx.tb_active",
        "dx.tb_latent",
        "dx.pregnancy",
        "dx.breastfeeding",
        "dx.severe_jdm_signal",
        "med.jak_systemic",
        "med.jak_topical",
        "med.jak_review",
        "med.immunosuppressant",
        "med.immunosuppressant_ambiguous",
        "med.antineoplastic",
        "med.corticosteroid_systemic",
        "med.passive_antibodies",
        "med.hsv_antiviral",
        "med.anti_infective",
        "med.estrogen_contraceptive",
        "vax.live",
        "vax.maybe_live",
        "vax.varicella",
    }
)
