"""Vacancy confidence and evidence on hand-made units (no database)."""
import datetime as dt

import pandas as pd
import pytest

from plekzoeker.scoring.vacancy import aggregate_buildings, confidence, unit_evidence
from plekzoeker.scoring.vacancy_config import VacancyConfig
from plekzoeker.settings import load_config

TODAY = dt.date(2026, 11, 1)


def unit(i, pand="0001100000000001", status="Verblijfsobject in gebruik", pand_status="Pand in gebruik", area=600,
         **kw):
    base = dict(identificatie=f"00010100000000{i:02d}", pand_id=pand, gebruiksdoelen=["kantoorfunctie"], oppervlakte=area,
                status=status, documentdatum=dt.date(2020, 1, 1), postcode="0001AA", huisnummer=i, huisletter=None,
                toevoeging=None, openbare_ruimte="Teststraat", woonplaats="Testdorp", pand_status=pand_status, x=0.0,
                y=0.0, register_since=None, register_file=None, in_register=False, establishment_active=None,
                kwh_per_m2=None, listed_since=None)
    base.update(kw)
    return base


def test_confidence_noisy_or_and_counter():
    assert confidence([], []) == 0.0
    assert confidence([0.6], []) == 0.6
    assert confidence([0.6, 0.5], []) == pytest.approx(0.8)
    assert confidence([0.6, 0.5], [0.5]) == pytest.approx(0.4)


def test_evidence_lists_and_absent_data_is_no_evidence():
    cfg = VacancyConfig.from_config(load_config())
    units = pd.DataFrame([
        unit(1, status="Verblijfsobject buiten gebruik"),
        unit(2, in_register=True, register_since=dt.date(2024, 1, 1), register_file="vacancy.csv"),
        unit(3, in_register=True, establishment_active=True, kwh_per_m2=80.0, register_file="vacancy.csv"),
        unit(4),
    ])
    # without establishment/energy exports: absence of an establishment is NOT evidence
    out = unit_evidence(units, cfg, loaded_kinds={"vacancy"}, today=TODAY)
    assert [e["signal"] for e in out.loc[0, "evidence"]] == ["bag_status_buiten_gebruik"]
    assert out.loc[0, "confidence"] == 0.6
    assert out.loc[2, "confidence"] == 0.7
    assert out.loc[3, "confidence"] == 0.0 and out.loc[3, "evidence"] == []
    # with them: unit 3 is contradicted, unit 4 gains only "no establishment"
    out = unit_evidence(units, cfg, loaded_kinds={"vacancy", "establishments", "energy"}, today=TODAY)
    sig3 = [e["signal"] for e in out.loc[2, "evidence"]]
    assert sig3 == ["vacancy_register", "active_establishment", "normal_energy"]
    assert out.loc[2, "confidence"] == pytest.approx(0.7 * 0.65 * 0.8, abs=1e-4)
    assert [e["signal"] for e in out.loc[3, "evidence"]] == ["no_establishment"]


def test_long_renovation_only_when_long():
    cfg = VacancyConfig.from_config(load_config())
    units = pd.DataFrame([unit(1, status="Verbouwing verblijfsobject", documentdatum=dt.date(2020, 1, 1)),
                          unit(2, status="Verbouwing verblijfsobject", documentdatum=dt.date(2026, 6, 1))])
    out = unit_evidence(units, cfg, set(), today=TODAY)
    assert out.loc[0, "evidence"][0]["signal"] == "bag_long_renovation"
    assert out.loc[1, "evidence"] == []


def test_building_aggregation_threshold_and_demolition():
    cfg = VacancyConfig.from_config(load_config())
    units = pd.DataFrame([
        unit(1, pand="A" * 16, status="Verblijfsobject buiten gebruik", area=300),
        unit(2, pand="A" * 16, status="Verblijfsobject buiten gebruik", area=250),
        unit(3, pand="A" * 16, area=1000),                                   # occupied unit, same building
        unit(4, pand="B" * 16, status="Verblijfsobject buiten gebruik", area=400),   # below 500 m2
        unit(5, pand="C" * 16, status="Verblijfsobject buiten gebruik", area=900, pand_status="Sloopvergunning verleend"),
    ])
    scored = unit_evidence(units, cfg, set(), today=TODAY)
    cands, excl = aggregate_buildings(scored, cfg)
    assert cands["candidate_key"].tolist() == ["pand:" + "A" * 16]
    row = cands.iloc[0]
    assert row["area_m2"] == 550 and row["details"]["units_vacant"] == 2 and row["details"]["units_total"] == 3
    assert row["details"]["vacant_share"] == pytest.approx(550 / 1550, abs=1e-3)
    assert excl["candidate_key"].tolist() == ["pand:" + "C" * 16]
    assert excl.iloc[0]["reason"] == "demolition permit"
