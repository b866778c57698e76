"""Demand from a CSV (inputs.demand) merged with the config's demand section: known answers, one-line
errors, and where it is shown (summary.json's municipalities, coverage.md, the lists' about sheet)."""
import pandas as pd
import pytest

from plekzoeker.errors import ConfigError, SourceError
from plekzoeker.outputs.demand import Demand, DemandConfig, read_demand_csv
from plekzoeker.outputs.municipality_summary import about_lines, coverage_markdown, municipality_report
from plekzoeker.pipelines import stages
from plekzoeker.settings import load_config

CSV = ("gemeentecode;taakstelling;daklozen;periode;bron\n"
       "GM0228;120;300;2026-H1;COA taakstelling 2026-H1; CBS 2024\n"
       "0344;85;;2026-H1;\n"
       "gm0363;;2500;;CBS dakloosheid 2024\n")


def _cfg(tmp_path, text=CSV, demand=None, name="demand.csv"):
    (tmp_path / name).write_text(text, encoding="utf-8")
    (tmp_path / "my.yaml").write_text(f"inputs: {{demand: {name}}}\n", encoding="utf-8")   # relative to the config
    return load_config(tmp_path / "my.yaml", overrides={"demand": demand} if demand else None)


def test_csv_read_with_dutch_headers_and_semicolons(tmp_path):
    cfg = _cfg(tmp_path, CSV.replace("COA taakstelling 2026-H1; CBS 2024", "COA taakstelling 2026-H1"))
    assert cfg["inputs"]["demand"] == str(tmp_path / "demand.csv")
    d = DemandConfig.from_config(cfg).by_municipality
    assert d == {"GM0228": Demand(120, 300, "COA taakstelling 2026-H1", "2026-H1"),
                 "GM0344": Demand(85, None, "demand.csv", "2026-H1"),       # no source cell: the file says where
                 "GM0363": Demand(None, 2500, "CBS dakloosheid 2024", None)}
    assert d["GM0228"].people == 420 and d["GM0344"].people == 85


def test_config_wins_field_by_field(tmp_path):
    text = "municipality,status_holders,homeless,period,source\nGM0228,120,300,2026-H1,taakstelling\nGM0344,85,,,\n"
    cfg = _cfg(tmp_path, text, demand={"GM0228": {"status_holders": 150, "source": "raad 2026-03"},
                                       "GM0999": {"homeless": 10}})
    d = DemandConfig.from_config(cfg).by_municipality
    assert d["GM0228"] == Demand(150, 300, "raad 2026-03; taakstelling", "2026-H1")   # 150 from config, 300 from the CSV
    assert d["GM0344"] == Demand(85, None, "demand.csv", None)                      # only in the CSV
    assert d["GM0999"] == Demand(None, 10, None, None)                              # only in the config
    # without the file: the config alone, as before
    assert DemandConfig.from_config(load_config(overrides={"demand": {"GM0228": {"status_holders": 150}}})) \
        .by_municipality == {"GM0228": Demand(150, None, None, None)}


@pytest.mark.parametrize("text,problem", [
    ("gemeente,status_holders\nGM0228,1\n", "missing column municipality (or gemeentecode); columns: gemeente, status_holders"),
    ("municipality,period\nGM0228,2026-H1\n", "missing column status_holders (taakstelling) or homeless"),
    ("municipality,status_holders\nGM0228,10\nGM228,5\n",
     "line 3: municipality 'GM228' is not a municipality code (GM + 4 digits, or 4 digits)"),
    ("municipality,status_holders,homeless\nGM0228,10,-4\n", "line 2: homeless '-4' for GM0228 must be a whole number of people >= 0"),
    ("municipality,status_holders\nGM0228,2.5\n", "line 2: status_holders '2.5' for GM0228 must be a whole number"),
    ("municipality,status_holders\n0228,10\nGM0228,12\n", "line 3: GM0228 is listed twice (also on line 2)"),
    ("", "the demand CSV is empty"),
])
def test_bad_csv_is_one_line_naming_the_file(tmp_path, text, problem):
    cfg = _cfg(tmp_path, text)
    with pytest.raises(SourceError) as e:
        DemandConfig.from_config(cfg)
    msg = str(e.value)
    assert msg.startswith(f"{tmp_path / 'demand.csv'}: ") and problem in msg and "\n" not in msg
    cfg["inputs"].update(bag="b", brk="k", osm="o")
    with pytest.raises(SourceError):       # checked before a nightly run starts, not only at publish
        stages.required_inputs(cfg)


def test_missing_file_and_bad_config(tmp_path):
    cfg = load_config(overrides={"inputs": {"demand": str(tmp_path / "nope.csv")}})
    with pytest.raises(SourceError, match=r"nope\.csv: demand file not found \(inputs\.demand\)"):
        read_demand_csv(cfg["inputs"]["demand"])
    with pytest.raises(ConfigError, match=r"config demand\.GM0228\.homeless: -1 must be a whole number"):
        DemandConfig.from_config(load_config(overrides={"demand": {"GM0228": {"homeless": -1}}}))


def test_shown_in_summary_coverage_and_about(db, tmp_path):
    cfg = _cfg(tmp_path, "municipality,status_holders,homeless,period,source\nGM0228,120,80,2026-H1,taakstelling\n")
    ranked = pd.DataFrame({"candidate_key": ["pand:0228100000000001"], "kind": ["vacant_building"],
                           "municipality": ["GM0228"], "people_low": [20], "people_high": [30], "homes_low": [15],
                           "homes_high": [25], "offered": [False], "profile": ["default"]})
    with db.connect() as conn:
        report = municipality_report(conn, ranked, cfg)
    assert report["GM0228"]["demand"] == {"status_holders": 120, "homeless": 80, "people": 200, "source": "taakstelling",
                                          "period": "2026-H1", "covered_share_low": 0.1, "covered_share_high": 0.15}
    line = ("GM0228: 1 ranked candidate(s) could house 20–30 people (15–25 homes); demand 200 people (120 status holders, "
            "80 homeless; 2026-H1; taakstelling): capacity covers 10–15 %")
    assert about_lines(report)[0] == line
    assert line in coverage_markdown(report, "2026-11-01T00:00:00")
