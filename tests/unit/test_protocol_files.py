"""The protocol's data files: every value comes from them, and a key left out stops the load."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from config.protocol_files import (
    DEFAULT_VERSION,
    PROTOCOLS_DIR,
    ProtocolError,
    load_protocol,
    load_protocol_dir,
)
from domain.protocol import LONGEST_SPAN_DAYS

SHIPPED = PROTOCOLS_DIR / DEFAULT_VERSION


def _keys(mapping: dict, prefix: str = "") -> list[str]:
    """Every key of protocol.yaml, dotted, down to the values (the potency table counts as one)."""
    keys = []
    for key, value in mapping.items():
        dotted = f"{prefix}{key}"
        keys.append(dotted)
        if isinstance(value, dict) and key != "corticosteroid_potency":
            keys.extend(_keys(value, f"{dotted}."))
    return keys


def _copy_without(tmp_path: Path, dotted: str) -> Path:
    folder = tmp_path / SHIPPED.name
    shutil.copytree(SHIPPED, folder)
    main = folder / "protocol.yaml"
    data = yaml.safe_load(main.read_text(encoding="utf-8"))
    *parents, last = dotted.split(".")
    held = data
    for part in parents:
        held = held[part]
    del held[last]
    main.write_text(yaml.safe_dump(data), encoding="utf-8")
    return folder


SHIPPED_KEYS = _keys(yaml.safe_load((SHIPPED / "protocol.yaml").read_text(encoding="utf-8")))


@pytest.mark.parametrize("key", SHIPPED_KEYS)
def test_a_key_missing_from_protocol_yaml_is_a_load_error_naming_the_file_and_the_key(tmp_path, key):
    folder = _copy_without(tmp_path, key)
    with pytest.raises(ProtocolError) as raised:
        load_protocol_dir(folder)
    assert f"{folder.name}/protocol.yaml: {key}: required key missing" in str(raised.value)


def test_a_code_list_missing_its_system_names_the_codes_file_it_came_from(tmp_path):
    folder = tmp_path / SHIPPED.name
    shutil.copytree(SHIPPED, folder)
    path = folder / "codes-labs.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    del data["code_lists"]["lab.hcg"]["system"]
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ProtocolError) as raised:
        load_protocol_dir(folder)
    expected = f"{folder.name}/codes-labs.yaml: code_lists.lab.hcg.system: required key missing"
    assert str(raised.value) == expected


def test_the_low_titre_cut_off_of_the_antiphospholipid_rule_is_protocol_data():
    assert load_protocol().thresholds.antiphospholipid_low_titre_up_to == 40


def _copy_with(tmp_path: Path, dotted: str, value: str) -> Path:
    """The shipped version with one value of protocol.yaml replaced by ``value``, as YAML text."""
    folder = tmp_path / SHIPPED.name
    shutil.copytree(SHIPPED, folder)
    main = folder / "protocol.yaml"
    data = yaml.safe_load(main.read_text(encoding="utf-8"))
    *parents, last = dotted.split(".")
    held = data
    for part in parents:
        held = held[part]
    held[last] = "@@VALUE@@"
    main.write_text(yaml.safe_dump(data).replace("'@@VALUE@@'", value), encoding="utf-8")
    return folder


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("thresholds.neutrophils_below_10e9_l", ".nan"),
        ("thresholds.haemoglobin_below_g_dl", ".inf"),
        ("thresholds.clearance_below_ml_min_173", "'NaN'"),
        ("thresholds.lymphocytes_below_10e9_l", "-0.5"),
        ("thresholds.schwartz_k", "0"),
        ("windows.live_vaccine", "3000000"),
        ("windows.passive_antibodies", "-1"),
        ("validity.blood_count", "3000000"),
        ("validity.vzv_positive", "99999999"),
        ("age.maximum_years", "1000"),
        ("corticosteroid_potency.H02AB07", ".nan"),
    ],
)
def test_a_value_out_of_its_range_is_a_load_error_naming_the_file_and_the_key(tmp_path, key, value):
    folder = _copy_with(tmp_path, key, value)
    with pytest.raises(ProtocolError) as raised:
        load_protocol_dir(folder)
    assert f"{folder.name}/protocol.yaml: {key}: " in str(raised.value)


def test_the_longest_window_loads():
    assert LONGEST_SPAN_DAYS >= 36_500
    assert max(load_protocol().windows.model_dump().values()) < LONGEST_SPAN_DAYS


def _copy_with_wording(tmp_path: Path, change) -> Path:
    folder = tmp_path / SHIPPED.name
    shutil.copytree(SHIPPED, folder)
    path = folder / "criteria.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data["criteria"])
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return folder


def test_every_criterion_has_a_name_and_its_protocol_sentence_beside_the_version():
    protocol = load_protocol()
    assert protocol.criterion_name("EXC-VTE-RISK") == "High risk of venous thrombosis"
    assert protocol.criterion_sentence("EXC-ORAL") == "Inability to be treated by oral way or to take pills"
    assert all(protocol.criterion_name(cid) != cid for cid in protocol.criteria)


def test_a_criterion_left_unnamed_stops_the_load_naming_it(tmp_path):
    folder = _copy_with_wording(tmp_path, lambda criteria: criteria.pop("EXC-ORAL"))
    with pytest.raises(ProtocolError, match=r"criteria.yaml: not named: EXC-ORAL"):
        load_protocol_dir(folder)


def test_a_criterion_without_its_english_sentence_stops_the_load(tmp_path):
    folder = _copy_with_wording(tmp_path, lambda criteria: criteria["EXC-HB"]["sentence"].pop("en"))
    with pytest.raises(ProtocolError, match=r"criteria.yaml: criteria.EXC-HB.sentence: .*'en'"):
        load_protocol_dir(folder)


def test_a_translation_is_one_more_language_beside_english(tmp_path):
    def in_french(criteria):
        criteria["EXC-ORAL"]["name"]["de"] = "Keine orale Behandlung möglich"

    protocol = load_protocol_dir(_copy_with_wording(tmp_path, in_french))
    assert protocol.criterion_name("EXC-ORAL", "de") == "Keine orale Behandlung möglich"
    assert protocol.criterion_name("EXC-HB", "de") == protocol.criterion_name("EXC-HB")
    assert protocol.criterion_name("EXC-HB", "fr") == "Hémoglobine inférieure à 8 g/dL"


def test_a_renamed_criterion_or_a_new_translation_is_part_of_the_diff_between_versions(tmp_path):
    from domain.amendments import diff

    def amended(criteria):
        criteria["EXC-HB"]["name"]["en"] = "Haemoglobin below 10 g/dL"
        criteria["EXC-ORAL"]["sentence"]["fr"] = "Impossibilité d'un traitement par voie orale"

    changes = [str(c) for c in diff(load_protocol(), load_protocol_dir(_copy_with_wording(tmp_path, amended)))]
    assert changes == ["criteria.EXC-ORAL.sentence.fr: Impossibilité d'être traité par voie orale ou de prendre des "
                       "comprimés → Impossibilité d'un traitement par voie orale",
                       "criteria.EXC-HB.name.en: Haemoglobin below 8 g/dL → Haemoglobin below 10 g/dL"]
