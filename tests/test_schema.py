"""Data files are checked against their declared schema when read (envcompare/vocab/schema.py):
an unknown key, a missing key or a wrong type is a DataSchemaError naming the file and the key."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from envcompare.errors import DataFileError, DataSchemaError
from envcompare.vocab import resources
from envcompare.vocab.schema import ANY, REGEX, SCHEMAS, Cell, Enum, OneOf, Opt, Table, check, schema_for, validate

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
OWN_CHECKERS = ("gold/", "examples/")  # hand labels and example sentences: read by their own checkers


def data_files() -> list[str]:
    return sorted(p.relative_to(DATA).as_posix() for p in DATA.rglob("*")
                  if p.suffix in (".yaml", ".csv") and not p.relative_to(DATA).as_posix().startswith(OWN_CHECKERS))


@pytest.fixture()
def data_copy(tmp_path, monkeypatch):
    """A copy of data/ that the engine reads instead (ENVCOMPARE_DATA), with a fresh file cache."""
    copy = tmp_path / "data"
    shutil.copytree(DATA, copy)
    monkeypatch.setenv("ENVCOMPARE_DATA", str(copy))
    resources.read_yaml.cache_clear()
    resources.read_csv.cache_clear()
    yield copy
    resources.read_yaml.cache_clear()
    resources.read_csv.cache_clear()


def test_every_data_file_has_a_schema_and_fits_it():
    files = data_files()
    assert "rules.yaml" in files or any(f.startswith("constructions/") for f in files)
    missing = [f for f in files if schema_for(f) is None]
    assert not missing, f"data files without a schema in envcompare/vocab/schema.py SCHEMAS: {missing}"
    for name in files:
        (resources.read_csv if name.endswith(".csv") else resources.read_yaml)(name)


def test_an_unknown_key_names_the_file_and_the_key(data_copy):
    path = data_copy / "comparability.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "\nmin_citys: 4\n", encoding="utf-8")
    with pytest.raises(DataSchemaError) as caught:
        resources.read_yaml("comparability.yaml")
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    assert "unknown key 'min_citys'" in message and "min_cities" in message  # the known keys are listed


def test_an_unknown_key_deep_inside_names_its_path(data_copy):
    path = data_copy / "units.yaml"
    content = yaml.safe_load(path.read_text(encoding="utf-8"))
    content["display"]["day"]["fr"] = "jours"
    path.write_text(yaml.safe_dump(content, allow_unicode=True), encoding="utf-8")
    with pytest.raises(DataSchemaError, match=r"units\.yaml: display\.day: unknown key 'fr' \(known: zh, en\)"):
        resources.read_yaml("units.yaml")


def test_a_wrong_type_and_a_missing_key_are_errors_not_key_errors(data_copy):
    path = data_copy / "comparability.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(re.sub(r"(?m)^min_cities: \d+$", "min_cities: five", text), encoding="utf-8")
    with pytest.raises(DataSchemaError, match=r"comparability\.yaml: min_cities: expected a whole number, found text 'five'"):
        resources.read_yaml("comparability.yaml")
    resources.read_yaml.cache_clear()
    path.write_text(re.sub(r"(?m)^count_prefix: .*$", "", text), encoding="utf-8")
    with pytest.raises(DataSchemaError, match=r"top level: missing key 'count_prefix'"):
        resources.read_yaml("comparability.yaml")


def test_a_pattern_that_does_not_compile_is_named(data_copy):
    path = data_copy / "text" / "segment.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("code: '[A-Za-z]+", "code: '[A-Za-z+"), encoding="utf-8")
    with pytest.raises(DataSchemaError, match=r"segment\.yaml: code: not a regular expression"):
        resources.read_yaml("text/segment.yaml")


def test_csv_columns_and_cells_are_checked(data_copy):
    path = data_copy / "indicators.csv"
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    table.assign(colour="red").to_csv(path, index=False)
    with pytest.raises(DataSchemaError, match=r"indicators\.csv: top level: unknown column 'colour'"):
        resources.read_csv("indicators.csv")
    resources.read_csv.cache_clear()
    table.loc[3, "direction"] = "up"
    table.to_csv(path, index=False)
    with pytest.raises(DataSchemaError, match=r"line 5, column 'direction': 'up' is not a direction"):
        resources.read_csv("indicators.csv")
    resources.read_csv.cache_clear()
    table.loc[3, "direction"] = "higher_better"
    table.loc[4, "id"] = table.loc[3, "id"]
    table.to_csv(path, index=False)
    with pytest.raises(DataSchemaError, match=r"line 6, column 'id': '[a-z._0-9]+' is there twice"):
        resources.read_csv("indicators.csv")


def test_defaults_live_in_the_schema(data_copy):
    """A key left out gets the schema's default: the code reads cfg[key], never cfg.get(key, d)."""
    from envcompare.comparison.analysis import default_min_cities

    path = data_copy / "comparability.yaml"
    path.write_text(re.sub(r"(?m)^(min_cities|exact_units): .*$", "", path.read_text(encoding="utf-8")), encoding="utf-8")
    cfg = resources.read_yaml("comparability.yaml")
    assert cfg["min_cities"] == 5 and cfg["exact_units"] == []
    assert default_min_cities() == 5


def test_the_command_line_says_which_file_and_key_in_one_line(tmp_path):
    copy = tmp_path / "data"
    shutil.copytree(DATA, copy)
    (copy / "labels.yaml").write_text((DATA / "labels.yaml").read_text(encoding="utf-8") + "\nsubtitle: 3\n",
                                      encoding="utf-8")
    env = {**os.environ, "ENVCOMPARE_DATA": str(copy)}
    res = subprocess.run([sys.executable, "-m", "envcompare", "build", str(ROOT / "seeds" / "jinan_2023_report.txt"),
                          "-o", str(tmp_path / "out"), "--no-cache", "-q", "-j", "1"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert res.returncode == 2
    assert res.stderr.strip().splitlines() == [
        f"envcompare: {copy / 'labels.yaml'}: subtitle: expected a mapping with the keys zh, en, found a whole number 3"]


def test_a_date_key_the_header_has_no_name_for_is_a_data_file_error(tmp_path):
    # page_metadata.undated_key must be one of date_keys (else a header line starting with a date
    # would be read under a key no date is looked for in): refused when the rules load
    copy = tmp_path / "data"
    shutil.copytree(DATA, copy)
    clean = copy / "clean.yaml"
    text = clean.read_text(encoding="utf-8")
    assert "  undated_key: 日期\n" in text
    clean.write_text(text.replace("  undated_key: 日期\n", "  undated_key: 落款\n"), encoding="utf-8")
    res = subprocess.run([sys.executable, "-c", "from envcompare.ingest.metadata import infer; infer('某市')"],
                         cwd=ROOT, env={**os.environ, "ENVCOMPARE_DATA": str(copy)}, capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 1
    assert f"DataFileError: cannot read {clean}: page_metadata.undated_key '落款' is not one of date_keys" in res.stderr


def test_invalid_yaml_is_a_data_file_error(data_copy):
    (data_copy / "gazetteer.yaml").write_text("written_suffixes: {自治县: 县\n", encoding="utf-8")
    with pytest.raises(DataFileError, match="gazetteer.yaml: not valid YAML"):
        resources.read_yaml("gazetteer.yaml")


def test_a_comma_in_a_flow_mapping_was_a_silent_key():
    """The schema found labels.yaml's English theme title cut at its comma (a YAML flow mapping
    made the rest a key): it is whole now."""
    assert resources.read_yaml("labels.yaml")["themes_title"]["en"].endswith("by city, year and document type)")


# --- the schema language ---------------------------------------------------------------------------


def test_the_schema_language():
    assert check({"a": int, "b": Opt([str], ["x"]), ...: float}, {"a": 1, "z": 2.5}) == {"a": 1, "z": 2.5, "b": ["x"]}
    assert check((str, float), ["ug/m3", 1]) == ["ug/m3", 1]
    assert check(OneOf(str, None), None) is None
    assert check(Enum(">=", "<="), "<=") == "<="
    assert check(ANY, {"anything": [1]}) == {"anything": [1]}
    for spec, value, said in [
        (int, True, "expected a whole number, found true/false True"),  # a bool is not a number
        (float, "1.5", "expected a number, found text '1.5'"),
        ([str], ["a", 2], "[1]: expected text, found a whole number 2"),
        ((str, float), ["a"], "expected a list of exactly 2 (text, a number)"),
        (Enum(">=", "<="), "=>", "expected one of '>=', '<='"),
        (REGEX, "(", "not a regular expression"),
        ({"a": {"b": int}}, {"a": {"c": 1}}, "a: unknown key 'c' (known: b)"),
        (OneOf({"a": int}, None), {"b": 1}, "unknown key 'b' (known: a)"),  # the mapping option's own error
        (OneOf({"a": int}, None), 3, "expected a mapping with the keys a or null"),
    ]:
        with pytest.raises(Exception) as caught:
            check(spec, value)
        assert said in str(caught.value), (spec, value, str(caught.value))


def test_a_default_is_never_shared_between_reads():
    first = check({"a": Opt([str], [])}, {})
    first["a"].append("x")
    assert check({"a": Opt([str], [])}, {}) == {"a": []}


def test_a_table_schema_on_its_own(monkeypatch):
    monkeypatch.setitem(SCHEMAS, "t.csv", Table({"id": Cell(r"\d+", "a whole number"), "name": Cell(r".*", "text")},
                                                unique=("id",)))
    frame = pd.DataFrame({"id": ["1", "2"], "name": ["a", ""]})
    assert validate("t.csv", frame, "t.csv") is frame
    with pytest.raises(DataSchemaError, match="t.csv: top level: missing column 'name'"):
        validate("t.csv", frame[["id"]], "t.csv")
    with pytest.raises(DataSchemaError, match="line 3, column 'id': '1' is there twice"):
        validate("t.csv", frame.assign(id=["1", "1"]), "t.csv")


def test_a_file_without_a_schema_is_read_as_it_is():
    """Read unchecked (a file added on another branch does not stop the engine); the test above
    fails for it until its schema line is added."""
    assert schema_for("nowhere/new.yaml") is None
    assert validate("nowhere/new.yaml", {"x": 1}, "new.yaml") == {"x": 1}
    assert schema_for("constructions/zeros.yaml") is not None  # a glob covers a family of files


def test_data_readme_describes_every_schema_and_its_keys():
    readme = (DATA / "README.md").read_text(encoding="utf-8")
    for name, spec in SCHEMAS.items():
        if not any(schema_for(f) is spec for f in data_files()):
            continue  # declared for a file another branch adds
        assert f"`{name}`" in readme, f"data/README.md does not describe {name}"
        keys = spec.columns if isinstance(spec, Table) else (spec if isinstance(spec, dict) else {})
        for key in keys:
            if key is not ...:
                assert f"`{key}`" in readme, f"data/README.md does not name {name}'s key {key!r}"
