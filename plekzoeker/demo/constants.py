"""The fixed facts of Demodorp: codes, the reference date, statuses, name lists, the noise model
and what the manifest assumes of the default configuration.

Everything the other demo modules draw from is a constant here, so the same seed gives the same
town: no module keeps its own copy of a code, a date or a list of names.
"""
from __future__ import annotations

import datetime as dt

import pyarrow as pa

GM_CODE = "9999"                    # the code Kadaster uses for test data
MUNICIPALITY = "GM9999"
TOWN = "Demodorp"
ORIGIN_X, ORIGIN_Y = 150900, 440900  # RD New of the south-west corner of cell (0, 0)
TILE = 400                          # cell size (m)
CRS = "EPSG:28992"
REFERENCE_DATE = dt.date(2025, 6, 1)  # the "today" of the demo data (fixed, for determinism)
OSM_TIMESTAMP = dt.datetime(2025, 6, 1, 12, 0, 0, tzinfo=dt.UTC)
KAD_GEMEENTE = "DMD00"
RDF = "http://bag.basisregistraties.overheid.nl/bag/id/{kind}/{id}"
EPOCH = dt.date(1970, 1, 1).toordinal()
DRAW = -1                            # "draw a documentdatum" marker in the templates

PAND_STATUSES = ("Bouwvergunning verleend", "Bouw gestart", "Pand in gebruik", "Pand in gebruik (niet ingemeten)",
                 "Verbouwing pand", "Pand buiten gebruik", "Sloopvergunning verleend", "Pand gesloopt",
                 "Niet gerealiseerd pand", "Pand ten onrechte opgevoerd")
VBO_STATUSES = ("Verblijfsobject gevormd", "Verblijfsobject in gebruik", "Verblijfsobject in gebruik (niet ingemeten)",
                "Verbouwing verblijfsobject", "Verblijfsobject buiten gebruik", "Verblijfsobject ingetrokken",
                "Niet gerealiseerd verblijfsobject", "Verblijfsobject ten onrechte opgevoerd")
GEBRUIKSDOELEN = ("woonfunctie", "bijeenkomstfunctie", "celfunctie", "gezondheidszorgfunctie", "industriefunctie",
                  "kantoorfunctie", "logiesfunctie", "onderwijsfunctie", "sportfunctie", "winkelfunctie",
                  "overige gebruiksfunctie")
IN_USE, VBO_IN_USE = "Pand in gebruik", "Verblijfsobject in gebruik"
KANTOOR = "kantoorfunctie"

# What the manifest assumes (the defaults of plekzoeker/default.yaml at the time of writing).
BUILT_STATUSES = ("Bouwvergunning verleend", "Bouw gestart", "Pand in gebruik", "Pand in gebruik (niet ingemeten)",
                  "Verbouwing pand", "Pand buiten gebruik", "Sloopvergunning verleend")
ASSUMPTIONS = {
    "max_building_coverage": 0.05, "built_statuses": list(BUILT_STATUSES), "min_area_m2": 1000, "min_width_m": 20,
    "min_building_area_m2": 500, "vacancy_gebruiksdoelen": [KANTOOR], "min_confidence": 0.3,
    "long_renovation_days": 730, "low_energy_kwh_per_m2": 20, "noise_exclude_above_db": 65,
    "weights": {"bag_status_buiten_gebruik": 0.6, "bag_pand_buiten_gebruik": 0.6, "bag_long_renovation": 0.35,
                "vacancy_register": 0.7, "no_establishment": 0.25, "low_energy": 0.3},
    "counter_weights": {"active_establishment": 0.35, "normal_energy": 0.2},
    "exclude_osm": ["natural=water", "landuse=cemetery", "leisure=park", "natural=wood", "leisure=pitch"],
}
# The planted land-cover exclusions: expectation -> (OSM key, value) of the area that removes the plot.
EXCLUDED_CLASSES = {"excluded:cemetery": ("landuse", "cemetery"), "excluded:park": ("leisure", "park"),
                    "excluded:wood": ("natural", "wood"), "excluded:sports": ("leisure", "pitch")}

# Noise model: Lden(d) = L0 - 15 log10(1 + d / 8 m) - 0.005 d per source, summed energetically with
# a 45 dB background. ≈ 70 dB at the edge of the Provincialeweg, > 65 dB up to ~28 m from its axis.
NOISE_LEVELS = {"secondary": 75.0, "tertiary": 68.0, "railway": 72.0}
NOISE_BACKGROUND = 45.0
NOISE_RANGE = 1500.0
NOISE_CELL = 10.0
NOISE_MARGIN = 300.0
NODATA = -9999.0

# Letter pairs of Dutch postcodes (SA, SD and SS are never issued).
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
PC_PAIRS = [a + b for a in LETTERS for b in LETTERS if a + b not in ("SA", "SD", "SS")]

STREET_BASES = ["Eiken", "Beuken", "Linden", "Essen", "Berken", "Populieren", "Wilgen", "Kastanje", "Iepen", "Elzen",
                "Platanen", "Esdoorn", "Hazelaar", "Meidoorn", "Vlier", "Lijsterbes", "Merel", "Lijster", "Vinken",
                "Mezen", "Spreeuwen", "Kievit", "Reiger", "Zwaluw", "Specht", "Fazant", "Roodborst", "Winterkoning",
                "Buizerd", "Grutto", "Rozen", "Tulpen", "Lelie", "Narcis", "Iris", "Krokus", "Anjer", "Dahlia",
                "Violen", "Hyacint", "Klaver", "Margriet", "Rembrandt", "Vermeer", "Mondriaan", "Frans Hals",
                "Jan Steen", "Breitner", "Mesdag", "Toorop", "Escher", "Appel", "Koren", "Haver", "Rogge", "Vlas"]
STREET_SUFFIXES = ["straat", "laan", "hof", "weg", "dreef", "singel", "erf", "plantsoen"]
WOONPLAATS_BASES = ["Demohuizen", "Demoveen", "Demobroek", "Demowoude", "Demodijk", "Demohoven", "Demomeer",
                    "Demorade", "Demoburg", "Demowijk", "Demozand", "Demobeek", "Demohorst", "Demoloo", "Demokerk"]
WOONPLAATS_PREFIXES = ["", "Nieuw-", "Oud-", "Oost-", "West-", "Noord-", "Zuid-"]
LINE_NAMES = ["Akkerweg", "Beemdweg", "Dijkweg", "Esweg", "Heideweg", "Kampweg", "Kouterweg", "Maatweg", "Veldweg",
              "Broekweg", "Polderweg", "Weideweg", "Bosweg", "Zandweg", "Leeuwerikweg", "Hoeveweg"]

# The through roads of the core town: lattice lines by index (x = 400 i, y = 400 j in cell units).
CORE_V_LINES = {0: ("Westelijke Ringweg", "tertiary"), 1: ("Stationsweg", "tertiary"), 2: ("Oosterstraat", "residential"),
                3: ("Oostelijke Ringweg", "tertiary")}
CORE_H_LINES = {0: ("Zuidelijke Ringweg", "tertiary"), 1: ("Molenstraat", "residential"), 2: ("Provincialeweg", "secondary"),
                3: ("Spoorlaan", "tertiary")}
CORE_NAMES = {"Dorpsstraat", "Kerkstraat", "Kantorenlaan", "Beurslaan", "Handelsweg", "Industrieweg", "Oostveldweg",
              "Kerkhoflaan", "Fabrieksweg"} | {v[0] for v in CORE_V_LINES.values()} | {v[0] for v in CORE_H_LINES.values()}

NATURAL_PERSONS = ["J. de Vries-Testpersoon", "A. Jansen-Testpersoon", "M. Bakker-Testpersoon", "P. de Jong-Testpersoon"]
OWNERS = {
    "municipality": "Gemeente Demodorp",
    "housing_corporation": "Woonstichting Demodorp Wonen (test)",
    "province": "Provincie Demoland (test)",
    "other": "Waterschap Demorivier (test)",
}
COMPANIES = ["Kantoorbelegging Demo B.V.", "Demo Vastgoed Holding B.V.", "Test Property Fund N.V.",
             "Oostveld Ontwikkeling B.V.", "Beleggingsmaatschappij Proef B.V."]

LAYER_COLUMNS = {
    "pand": ["identificatie", "bouwjaar", "status", "gebruiksdoel", "oppervlakte_min", "oppervlakte_max",
             "aantal_verblijfsobjecten", "rdf_seealso", "documentdatum", "geom"],
    "verblijfsobject": ["identificatie", "openbare_ruimte_naam", "huisnummer", "huisletter", "toevoeging", "postcode",
                        "woonplaats_naam", "bouwjaar", "pand_identificatie", "pandstatus", "status", "gebruiksdoel",
                        "oppervlakte", "rdf_seealso", "documentdatum", "geom"],
    "perceel": ["identificatie", "kadastraleGemeenteCode", "kadastraleGemeenteWaarde", "sectie", "perceelnummer",
                "kadastraleGrootteWaarde", "geometry"],
}
SCHEMAS = {
    "pand": pa.schema([("identificatie", pa.string()), ("bouwjaar", pa.int32()), ("status", pa.string()),
                       ("gebruiksdoel", pa.string()), ("oppervlakte_min", pa.int32()), ("oppervlakte_max", pa.int32()),
                       ("aantal_verblijfsobjecten", pa.int32()), ("rdf_seealso", pa.string()),
                       ("documentdatum", pa.date32()), ("geom", pa.binary())]),
    "verblijfsobject": pa.schema([("identificatie", pa.string()), ("openbare_ruimte_naam", pa.string()),
                                  ("huisnummer", pa.int32()), ("huisletter", pa.string()), ("toevoeging", pa.string()),
                                  ("postcode", pa.string()), ("woonplaats_naam", pa.string()), ("bouwjaar", pa.int32()),
                                  ("pand_identificatie", pa.string()), ("pandstatus", pa.string()),
                                  ("status", pa.string()), ("gebruiksdoel", pa.string()), ("oppervlakte", pa.int32()),
                                  ("rdf_seealso", pa.string()), ("documentdatum", pa.date32()), ("geom", pa.binary())]),
    "perceel": pa.schema([("identificatie", pa.string()), ("kadastraleGemeenteCode", pa.string()),
                          ("kadastraleGemeenteWaarde", pa.string()), ("sectie", pa.string()),
                          ("perceelnummer", pa.int32()), ("kadastraleGrootteWaarde", pa.int32()),
                          ("geometry", pa.binary())]),
}

# Scorer-style outcome each semantic plot expectation corresponds to (see scoring/plots.py).
PLOT_OUTCOME = {"usable": "usable", "too_small": "too_small", "too_narrow": "too_narrow", "built": "built",
                "water": "too_small_after_exclusions", "excluded:cemetery": "too_small_after_exclusions",
                "excluded:park": "too_small_after_exclusions", "excluded:wood": "too_small_after_exclusions",
                "excluded:sports": "too_small_after_exclusions",
                "noise": "too_small_after_exclusions"}


def epoch_days(d: dt.date) -> int:
    return d.toordinal() - EPOCH


DOC_LO, DOC_HI = epoch_days(dt.date(2009, 7, 1)), epoch_days(dt.date(2025, 5, 31))
