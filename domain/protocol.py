"""The protocol as data: thresholds, windows, result validity, wording choices and code lists.

The values live in versioned data files under ``config/protocols``; this module only says what shape
they must have and refuses a definition that is incomplete or inconsistent when it loads. No protocol
value has a default here: a key left out of a data file must stop the load, not be filled in silently.
"""

from __future__ import annotations

from functools import cached_property
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from domain.codes import CodeSet

FACT_FAMILIES = ("lab.", "vital.", "obs.", "assessment.", "dx.", "med.", "vax.")
"""A code list's name starts with the family of facts it classifies (labs, vitals, ... vaccines)."""


class _Strict(BaseModel):
    # NaN and infinity compare false with everything: a threshold of NaN would silently pass all.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


LONGEST_SPAN_DAYS = 36_525
"""A window or validity of at most a hundred years: longer ones mean a typo (and dates that cannot
be computed), never a protocol's intent."""

Days = Annotated[int, Field(ge=0, le=LONGEST_SPAN_DAYS)]
Years = Annotated[int, Field(ge=0, le=100)]
Measure = Annotated[float, Field(ge=0, le=1_000_000)]
Factor = Annotated[float, Field(gt=0, le=1_000)]


class AgeRule(_Strict):
    minimum_years: Years
    maximum_years: Years
    rule: Literal["inclusive", "exclusive"]
    """``inclusive``: eligible up to the day before the (maximum + 1)th birthday; ``exclusive``:
    up to the day before the maximum-th birthday (the strict reading of "3-18")."""
    menarche_presumed_absent_below_years: Years


class Thresholds(_Strict):
    lymphocytes_below_10e9_l: Measure
    neutrophils_below_10e9_l: Measure
    haemoglobin_below_g_dl: Measure
    clearance_below_ml_min_173: Measure
    mmt8_below: Measure
    mmt8_maximum: Measure
    cmas_below: Measure
    cmas_maximum: Measure
    corticosteroid_dose_above_mg_kg_day: Measure
    hcg_negative_below_iu_l: Measure
    hcg_positive_from_iu_l: Measure
    schwartz_k: Factor
    antiphospholipid_low_titre_up_to: Measure
    """aCL / anti-β2GP1 values up to this are "low titre"; read only when
    ``choices.antiphospholipid_low_titre`` is ``review``."""


class Windows(_Strict):
    """Days before ``as_of`` that an event counts for; inclusive (contract §1, Time)."""

    live_vaccine: Days
    active_infection: Days
    symptomatic_hsv: Days
    prior_corticosteroids: Days
    passive_antibodies: Days
    height_before_creatinine: Days


class Validity(_Strict):
    """Days a result stays usable before ``as_of``; ``None`` means it never goes stale."""

    blood_count: Days
    haemoglobin: Days
    creatinine: Days
    height: Days
    cmv_pcr: Days
    antiphospholipid: Days
    hepatitis_hiv: Days
    vzv_negative: Days
    vzv_positive: Days | None
    muscle_score: Days
    igra: Days
    hcg: Days
    pregnancy_status: Days
    breastfeeding_status: Days
    weight: Days
    attestation: Days


class Choices(_Strict):
    """How the protocol's ambiguous sentences are read (criteria-catalogue §6)."""

    accept_documented_varicella_vaccination: bool
    cmv_detected_below_lloq: Literal["fail", "review"]
    antiphospholipid_low_titre: Literal["fail", "review"]
    cytopenia_logic: Literal["either"]
    renal_equation: Literal["bedside_schwartz"]
    corticosteroid_low_dose_start: Literal["review", "fail"]


class CodeList(_Strict):
    system: str
    codes: list[str] = Field(min_length=1)
    note: str | None = None
    """A comment for the reader; no rule reads it."""


class CriterionWording(_Strict):
    """What a person reads for a criterion id: a short name and the protocol sentence it implements,
    each by language (``en`` always; a translation adds its own key)."""

    name: dict[str, str]
    sentence: dict[str, str]

    @field_validator("name", "sentence")
    @classmethod
    def _in_english_at_least(cls, texts: dict[str, str]) -> dict[str, str]:
        if not (texts.get(FALLBACK_LANGUAGE) or "").strip():
            raise ValueError(f"needs its {FALLBACK_LANGUAGE!r} text")
        return texts


FALLBACK_LANGUAGE = "en"


class Protocol(_Strict):
    protocol: str
    version: str
    age: AgeRule
    thresholds: Thresholds
    windows: Windows
    validity: Validity
    choices: Choices
    corticosteroid_potency: dict[str, Factor]
    """Prednisone-equivalent factor per ATC code (mg prednisone per mg of the drug)."""
    code_lists: dict[str, list[CodeList]]
    """Each list may hold codes of several systems (LOINC and SNOMED, CVX and ATC, ...)."""
    criteria: dict[str, CriterionWording]
    """Each criterion's name and protocol sentence, by id (``criteria.yaml``); the loader checks that
    every criterion of the contract is named."""

    def criterion_name(self, cid: str, language: str = FALLBACK_LANGUAGE) -> str:
        """The short name shown wherever the id appears; the id itself for an id not named here."""
        wording = self.criteria.get(cid)
        if wording is None:
            return cid
        return wording.name.get(language) or wording.name[FALLBACK_LANGUAGE]

    def criterion_sentence(self, cid: str, language: str = FALLBACK_LANGUAGE) -> str:
        wording = self.criteria.get(cid)
        if wording is None:
            return ""
        return wording.sentence.get(language) or wording.sentence[FALLBACK_LANGUAGE]

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
