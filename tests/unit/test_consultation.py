"""The consultation export: personal data dropped or pseudonymised at load, both priority layouts,
refusals that name the problem, and the sample's biases."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import duckdb
import pytest

from ingest.raw.landing import LandingError
from ingest.raw import HeaderError
from devtools.sample import consultation as sample
from ingest.sources import consultation
from ingest.sources.consultation import ConsultationError, PseudonymisationKeyMissing

KEY = b"unit-test-key-0123456789abcdef"
REPO = Path(__file__).resolve().parents[2]
HEADER = ("Respondent ID,Collector,Started,Completed,Full name,Email address,Telephone number,Postcode,District,Age,"
          "Sex,Ethnic group,Disability,Priority 1,Priority 2,Priority 3,Confidence in police,Any other comments")
ROW_1 = ('101,Web link,01/10/2025 10:00:00,01/10/2025 10:09:00,Siân Evans,sian.evans7@example.org,07700 900123,PR1 2AB,'
         'Preston,65-74,Female,White,No,Tackling anti-social behaviour,Making roads safer,,Tend to agree,'
         '"Speeding on our road is dangerous. Ring me on 07700 900123, Siân"')
ROW_2 = ('102,Telephone interview,02/10/2025 18:00:00,02/10/2025 18:12:00,,,,,Burnley,16-24,Male,'
         '"Asian, Asian British or Asian Welsh",Prefer not to say,Making women and girls safer,'
         'Tackling hate crime,Tackling drug dealing and drug use,Strongly disagree,')


# The force area's districts as the questionnaire lists them (load_export reads them from the ONS lookup
# or the file's `districts`; derive takes the code list).
DISTRICTS = {"preston": "Preston", "burnley": "Burnley"}


def _derive(path: Path, label: str = "export.csv", survey: str = "s", **kwargs):
    return consultation.derive(path, label, survey, KEY, districts=kwargs.pop("districts", DISTRICTS), **kwargs)


def _export(tmp_path: Path, *rows: str, header: str = HEADER) -> Path:
    path = tmp_path / "export.csv"
    path.write_bytes("\ufeff".encode() + "\r\n".join([header, *rows, ""]).encode("utf-8"))
    return path


def test_pseudonyms_are_keyed_stable_and_differ_by_survey():
    a = consultation.pseudonymise(KEY, "lancashire-2025", "101")
    assert a == consultation.pseudonymise(KEY, "lancashire-2025", " 101 ")
    assert len(a) == 32 and int(a, 16) >= 0
    assert a != consultation.pseudonymise(KEY, "lancashire-2026", "101")
    assert a != consultation.pseudonymise(b"another-key-0123456789abcdef", "lancashire-2025", "101")
    assert "101" not in a


def test_the_key_comes_from_the_environment_and_its_absence_is_a_clear_error():
    section = {"pseudonymisation_key_env": "OPCC_CONSULTATION_KEY"}
    good = "0123456789abcdef0123456789abcdef"
    assert consultation.pseudonymisation_key(section, {"OPCC_CONSULTATION_KEY": good}) == good.encode()
    with pytest.raises(PseudonymisationKeyMissing, match="Set the environment variable OPCC_CONSULTATION_KEY"):
        consultation.pseudonymisation_key(section, {})
    # a configured Airflow connection outside a task gives no key: the same clear error, not a crash
    with pytest.raises(PseudonymisationKeyMissing, match="pseudonymisation_key_conn_id"):
        consultation.pseudonymisation_key({**section, "pseudonymisation_key_conn_id": "opcc_consultation_key"}, {})


def test_the_shipped_demo_key_passes_the_key_check():
    from ingest.config import load_settings

    demo = load_settings(environ={"OPCC_CONFIG": "config/demo.toml"}).source("consultation")
    assert consultation.pseudonymisation_key(demo, {}) == demo["demo_pseudonymisation_key"].encode()


# one byte (OPCC_..._KEY=x), 15 bytes, 32 bytes of one value, 20 of two, 35 of seven
WEAK_KEYS = ["x", "short-key-15byt", "x" * 32, "ab" * 10, "1234567" * 5]


@pytest.mark.parametrize("weak", WEAK_KEYS)
def test_a_weak_key_is_refused_from_the_environment_naming_the_variable_never_the_key(weak):
    with pytest.raises(PseudonymisationKeyMissing) as refused:
        consultation.pseudonymisation_key({"pseudonymisation_key_env": "OPCC_CONSULTATION__DEMO_KEY"},
                                          {"OPCC_CONSULTATION__DEMO_KEY": weak})
    message = str(refused.value)
    assert message.startswith("consultation: the pseudonymisation key from the environment variable "
                              "OPCC_CONSULTATION__DEMO_KEY is refused: it has ")
    assert "at least 16 bytes of at least 8 different values" in message
    assert repr(weak) not in message and (len(weak) < 3 or weak not in message)


@pytest.mark.parametrize("weak", WEAK_KEYS)
def test_a_weak_demo_key_is_refused_too_and_no_warning_says_it_was_used(weak, caplog):
    with caplog.at_level("WARNING"), pytest.raises(PseudonymisationKeyMissing) as refused:
        consultation.pseudonymisation_key({"demo_pseudonymisation_key": weak}, {})
    assert "from [consultation] demo_pseudonymisation_key in the configuration is refused" in str(refused.value)
    assert "using the demo pseudonymisation key" not in caplog.text


def test_a_demo_key_set_through_the_environment_is_refused_at_load(tmp_path, monkeypatch):
    # OPCC_CONSULTATION__DEMO_PSEUDONYMISATION_KEY=x overrides the demo's key with one byte.
    from ingest.config import load_settings

    settings = load_settings(environ={"OPCC_ROOT": str(tmp_path), "OPCC_CONFIG": str(REPO / "config" / "demo.toml"),
                                      "OPCC_CONSULTATION__DEMO_PSEUDONYMISATION_KEY": "x"})
    monkeypatch.delenv("OPCC_CONSULTATION_KEY", raising=False)
    with pytest.raises(PseudonymisationKeyMissing, match=r"demo_pseudonymisation_key in the configuration is "
                                                         r"refused: it has 1 bytes of 1 different values"):
        consultation.load(settings)


def test_a_weak_airflow_connection_password_is_refused_naming_the_connection(monkeypatch):
    monkeypatch.setattr(consultation, "_airflow_connection_password", lambda conn_id: "aaaaaaaaaaaaaaaaaaaaaaaa")
    with pytest.raises(PseudonymisationKeyMissing) as refused:
        consultation.pseudonymisation_key({"pseudonymisation_key_conn_id": "opcc_consultation_key"}, {})
    assert "from the password of Airflow connection 'opcc_consultation_key' is refused: it has 24 bytes of 1 " \
           "different values" in str(refused.value)
    assert "aaaa" not in str(refused.value)


def test_derive_drops_personal_columns_and_keeps_only_comment_flags(tmp_path):
    derived = _derive(_export(tmp_path, ROW_1, ROW_2), survey="lancashire-2025")
    assert derived.refused == []
    first, second = derived.rows
    text = repr(derived.rows)
    for personal in ("Siân", "Evans", "sian.evans7@example.org", "07700 900123", "PR1 2AB", "Speeding", "101"):
        assert personal not in text
    assert first[0] == consultation.pseudonymise(KEY, "lancashire-2025", "101")
    assert first[1:4] == ["Web link", "2025-10-01", "Preston"]
    assert first[8:11] == ["Tackling anti-social behaviour", "Making roads safer", ""]
    assert first[-2:] == ["true", "road_safety"]  # "Speeding" matched the road safety keywords
    assert second[-2:] == ["false", ""]
    assert second[6] == "Asian, Asian British or Asian Welsh"


def test_multi_select_layout_is_taken(tmp_path):
    header = HEADER.replace("Priority 1,Priority 2,Priority 3", "Priorities (select up to three)")
    row = ('7,Web link,01/10/2025 10:00:00,2025-10-01 10:09:00,,,,,Preston,35-44,Male,White,No,'
           '"Tackling domestic abuse; Making roads safer",Tend to agree,"Burglars broke in, and the 101 line rang out"')
    (derived,) = _derive(_export(tmp_path, row, header=header), "e.csv").rows
    assert derived[8:12] == ["", "", "", "Tackling domestic abuse; Making roads safer"]
    assert derived[-1] == "response_times"  # "101"; "Burglars" is not the whole word "burglary"


def test_a_personal_column_the_contract_does_not_know_is_refused_by_name(tmp_path):
    path = _export(tmp_path, ROW_1 + ",x", header=HEADER + ",Date of birth")
    with pytest.raises(HeaderError, match="unexpected columns: Date of birth"):
        _derive(path)


def test_an_export_without_a_priorities_question_is_refused(tmp_path):
    header = HEADER.replace("Priority 1,Priority 2,Priority 3,", "")
    with pytest.raises(HeaderError, match="no priorities question"):
        _derive(_export(tmp_path, header=header))


def test_an_answer_that_is_not_an_option_is_refused_naming_the_column_and_line_not_the_answer(tmp_path):
    row = ROW_2.replace("Tackling hate crime", "Tackling litter")
    with pytest.raises(ConsultationError) as refused:
        _derive(_export(tmp_path, ROW_1, row))
    assert "Priority 2 (not an option in seed consultation_priorities) on line 3" in str(refused.value)
    assert "Tackling litter" not in str(refused.value)


def test_a_row_with_the_wrong_cell_count_is_refused_without_keeping_its_content(tmp_path):
    derived = _derive(_export(tmp_path, ROW_1, "103,Web link,Preston"))
    assert len(derived.rows) == 1
    assert derived.refused == [(3, "3 cells where the header has 18; the row was refused and its content not kept "
                                   "(it may hold personal data)")]


def test_an_export_not_in_utf8_is_refused_naming_the_line_even_far_down(tmp_path):
    path = tmp_path / "export.csv"
    rows = [ROW_2.replace("102,", f"{200 + i},", 1) for i in range(80)] + [ROW_1]  # Siân on line 82
    path.write_bytes("\r\n".join([HEADER, *rows, ""]).encode("cp1252"))
    with pytest.raises(LandingError, match=r"export.csv: is not UTF-8 .* at line 82"):
        _derive(path)


def test_load_export_replaces_the_partition_gated_and_logs_refusals(tmp_path):
    path = _export(tmp_path, ROW_1, ROW_2, "103,Web link,Preston")
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        consultation.ensure_raw_tables(con)
        partition = {"_survey": "lancashire-2025", "_force_id": "lancashire"}
        for _ in range(2):  # a reload replaces, not appends
            result = consultation.load_export(con, path, partition=partition, key=KEY, source_file="export.csv",
                                              file_sha256="0" * 64, results_dir=tmp_path / "gates",
                                              districts=["Preston", "Burnley"])
        assert (result.rows_loaded, result.rows_rejected) == (2, 1)
        rows = con.execute("select district, completed_date::varchar, has_comment, comment_themes "
                           "from raw.consultation_responses order by district").fetchall()
        assert rows == [("Burnley", "2025-10-02", False, None), ("Preston", "2025-10-01", True, "road_safety")]
        rejects = con.execute("select line, error_type from raw.load_rejects where dataset = 'consultation_responses'"
                              ).fetchall()
        assert rejects == [(4, "CELL_COUNT")]
        columns = [r[0] for r in con.execute("describe raw.consultation_responses").fetchall()]
        assert not {"name", "email", "phone", "postcode", "comments", "respondent_id"} & set(columns)


def test_a_repeated_respondent_fails_the_gate_and_keeps_the_previous_rows(tmp_path):
    from ingest.raw import ReferenceGateFailed

    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        consultation.ensure_raw_tables(con)
        partition = {"_survey": "s", "_force_id": "lancashire"}
        consultation.load_export(con, _export(tmp_path, ROW_1), partition=partition, key=KEY, source_file="a.csv",
                                 file_sha256="0" * 64, districts=["Preston", "Burnley"])
        with pytest.raises(ReferenceGateFailed, match="respondent_key"):
            consultation.load_export(con, _export(tmp_path, ROW_1, ROW_2, ROW_1), partition=partition, key=KEY,
                                     source_file="b.csv", file_sha256="1" * 64, districts=["Preston", "Burnley"])
        assert con.execute("select count(*), min(_source_file) from raw.consultation_responses").fetchall() == [
            (1, "a.csv")]


# --------------------------------------------------------------------------- the sample


@pytest.fixture(scope="module")
def sample_table() -> list[dict[str, str]]:
    body = sample.export_bytes(sample.responses("lancashire", 2025, 2025, ["lancashire"], "ranked"))
    assert body.startswith(b"\xef\xbb\xbfRespondent ID,") and b"\r\n" in body
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


def test_sample_is_deterministic_and_every_answer_loads(tmp_path, sample_table):
    again = sample.export_bytes(sample.responses("lancashire", 2025, 2025, ["lancashire"], "ranked"))
    assert again == sample.export_bytes([list(sample_table[0].keys())] + [list(r.values()) for r in sample_table])
    path = tmp_path / "s.csv"
    path.write_bytes(again)
    from devtools.sample.geography import districts_for

    districts = {d.ons_name.lower(): d.ons_name for d in districts_for(["lancashire"]) if d.force_id == "lancashire"}
    derived = consultation.derive(path, "s.csv", "lancashire-2025", KEY, districts=districts)
    assert len(derived.rows) == len(sample_table) > 1000 and not derived.refused


def test_sample_online_respondents_are_older_and_whiter_than_telephone_ones(sample_table):
    def share(mode: str, column: str, values: set[str]) -> float:
        rows = [r for r in sample_table if r["Collector"] == mode and r[column] != "Prefer not to say"]
        return sum(r[column] in values for r in rows) / len(rows)

    young = {"16-24", "25-34"}
    assert share("Web link", "Age", young) < share("Telephone interview", "Age", young) - 0.1
    assert share("Web link", "Ethnic group", {"White"}) > share("Telephone interview", "Ethnic group", {"White"})
    assert any("@" in r["Any other comments"] for r in sample_table)  # personal data the loader must drop
    assert sum(bool(r["Email address"]) for r in sample_table) > 100


def test_sample_telephone_quota_fills_every_weighting_category_of_every_district(sample_table):
    telephone = [r for r in sample_table if r["Collector"] == "Telephone interview"]
    for district in {r["District"] for r in sample_table}:
        rows = [r for r in telephone if r["District"] == district]
        minority = [r for r in rows if r["Ethnic group"] not in ("White", "Prefer not to say")]
        disabled = [r for r in rows if r["Disability"].startswith("Yes")]
        assert len(minority) >= 2 and len(disabled) >= 2, district


def test_the_raw_table_has_a_suite_that_fits_it():
    import json

    suite = json.loads((Path(consultation.__file__).parents[2] / "expectations" /
                        "raw_consultation_responses.json").read_text())
    assert suite["name"] == "raw_consultation_responses"
    columns = [name for name, _ in consultation.RESPONSES.raw_columns()]
    assert suite["expectations"][0]["kwargs"]["column_list"] == columns
    for expectation in suite["expectations"]:
        assert expectation["meta"]["severity"] in ("error", "warning") and expectation["meta"]["why"]
        assert expectation["kwargs"].get("column", columns[0]) in columns
    in_set = {e["kwargs"]["column"]: e["kwargs"]["value_set"] for e in suite["expectations"]
              if e["type"] == "expect_column_values_to_be_in_set"}
    # the answers the suite accepts are the answers the weighting seed maps
    with (Path(consultation.__file__).parents[2] / "dbt_project" / "seeds" /
          "consultation_weighting_categories.csv").open(newline="", encoding="utf-8") as handle:
        seed = list(csv.DictReader(handle))
    for variable in ("age_band", "sex", "ethnic_group", "disability"):
        assert set(in_set[variable]) == {r["answer"] for r in seed if r["variable"] == variable}, variable


# --------------------------------------------------------------------------- structured columns: code lists only

JANE = "Jane Doe, 12 Acacia Avenue"
PHONE = "0770 090 0123"
POSTCODE = "PR1 2AB"
EMAIL = "jane.doe@example.org"
PERSONAL = (JANE, PHONE, POSTCODE, EMAIL, "Jane", "Acacia", "0770", "jane.doe")


def _typed_in_rows() -> list[str]:
    """Each piece of personal data typed into a different structured column, on lines 4-7."""
    return [
        ROW_2.replace("102,", "103,", 1).replace(",Burnley,", f',"{JANE}",'),  # District, line 4
        ROW_2.replace("102,", "104,", 1).replace(",Male,", f",{PHONE},"),  # Sex, line 5
        ROW_2.replace("102,", "105,", 1).replace(",Strongly disagree,", f",{POSTCODE},"),  # Confidence, line 6
        ROW_2.replace("102,", "106,", 1).replace(",Tackling hate crime,", f",{EMAIL},"),  # Priority 2, line 7
    ]


def test_typed_in_personal_data_refuses_the_export_naming_columns_and_lines_only(tmp_path):
    with pytest.raises(ConsultationError) as refused:
        _derive(_export(tmp_path, ROW_1, ROW_2, *_typed_in_rows()))
    message = str(refused.value)
    assert message.startswith("export.csv: 4 cell(s) hold something that is not one of their column's answers "
                              "(values not shown: a respondent may have typed personal data into them): ")
    assert "District (not a district in the configured districts) on line 4" in message
    assert "Sex (not an answer in seed consultation_weighting_categories) on line 5" in message
    assert ("Confidence in police (not an answer the suite expectations/raw_consultation_responses.json allows) "
            "on line 6") in message
    assert "Priority 2 (not an option in seed consultation_priorities) on line 7" in message
    assert "Nothing was loaded" in message
    for value in PERSONAL:
        assert value not in message and value not in repr(refused.value), value


def test_answers_are_matched_to_their_code_list_and_stored_as_it_spells_them(tmp_path):
    row = ROW_2.replace(",Burnley,", ",  burnley ,").replace(",Male,", ",male,").replace(
        ",Strongly disagree,", ",strongly  DISAGREE,")
    (derived,) = _derive(_export(tmp_path, row)).rows
    assert derived[3:6] == ["Burnley", "16-24", "Male"] and derived[12] == "Strongly disagree"


def test_a_blank_district_and_a_completion_time_that_is_not_a_date_are_refused_by_line(tmp_path):
    rows = [ROW_2.replace(",Burnley,", ",,"), ROW_2.replace("102,", "103,", 1).replace("02/10/2025 18:12:00", EMAIL)]
    with pytest.raises(ConsultationError) as refused:
        _derive(_export(tmp_path, ROW_1, *rows))
    assert "District (blank: weighting is by district) on line 3" in str(refused.value)
    assert "Completed (not a date) on line 4" in str(refused.value)
    assert EMAIL not in str(refused.value)


def test_a_long_list_of_lines_is_cut_short_and_counted(tmp_path):
    rows = [ROW_2.replace("102,", f"{200 + i},", 1).replace(",Male,", ",Unknown,") for i in range(14)]
    with pytest.raises(ConsultationError, match=r"Sex \(.*\) on lines 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 … "
                                                r"\(14 lines in all\)"):
        _derive(_export(tmp_path, *rows))


def test_districts_come_from_the_loaded_ons_lookup_or_the_files_list_and_their_absence_is_clear():
    from ingest.sources import ons_geography

    with duckdb.connect() as con:
        with pytest.raises(ConsultationError, match=r"e.csv: no list of lancashire's districts .* load the ONS "
                                                    r"geography first .* `districts = \[...\]`"):
            consultation.force_districts(con, "lancashire", None, "e.csv")
        ons_geography.ensure_raw_tables(con)
        con.execute("insert into raw.ons_lad_csp_pfa_lookup (lad_code, lad_name, lad_name_welsh, pfa_code) values "
                    "('E07000123', 'Preston', null, 'E23000003'), ('E07000117', 'Burnley', null, 'E23000003'), "
                    "('W06000001', 'Isle of Anglesey', 'Ynys Môn', 'W15000001'), "
                    "('E08000025', 'Birmingham', null, 'E23000014')")
        districts, source = consultation.force_districts(con, "lancashire", None, "e.csv")
        assert districts == {"preston": "Preston", "burnley": "Burnley"}
        assert source == "the ONS lookup of the lancashire force area (raw.ons_lad_csp_pfa_lookup)"
        assert set(consultation.force_districts(con, "north-wales", None, "e.csv")[0].values()) == {
            "Isle of Anglesey", "Ynys Môn"}
        # the file's own list wins (a questionnaire with pre-2023 names)
        assert consultation.force_districts(con, "lancashire", ["South Ribble"], "e.csv")[0] == {
            "south ribble": "South Ribble"}
        with pytest.raises(ConsultationError, match="districts must be a list of district names"):
            consultation.force_districts(con, "lancashire", "Preston", "e.csv")


def test_personal_data_in_structured_columns_reaches_neither_warehouse_nor_logs_nor_errors(
        tmp_path, monkeypatch, caplog, capfd):
    from ingest.config import load_settings
    from ingest.raw import LoadError

    export = tmp_path / "inputs" / "consultation-lancashire-2025.csv"
    export.parent.mkdir()
    overlay = tmp_path / "consultation.toml"
    overlay.write_text(
        "[consultation]\nfiles = [{ dataset = \"responses\", year = 2025, name = \"consultation-lancashire-2025.csv\", "
        "survey = \"lancashire-2025\", force = \"lancashire\", districts = [\"Preston\", \"Burnley\"], "
        f"url = \"file://{export}\" }}]\n")
    settings = load_settings(environ={"OPCC_ROOT": str(tmp_path), "OPCC_CONFIG": str(overlay)})
    monkeypatch.setenv("OPCC_CONSULTATION_KEY", KEY.decode())
    export.write_bytes(_export(tmp_path, ROW_1, ROW_2).read_bytes())
    consultation.fetch(settings)
    consultation.load(settings)  # a clean export first: its rows must survive the refused one
    export.write_bytes(_export(tmp_path, ROW_1, ROW_2, *_typed_in_rows()).read_bytes())
    with caplog.at_level("DEBUG"):
        consultation.fetch(settings)
        with pytest.raises(LoadError) as refused:
            consultation.load(settings)
    assert "District (not a district in the file's `districts` in [[consultation.files]]) on line 4" in str(
        refused.value)
    printed = capfd.readouterr()
    texts = {"error": str(refused.value), "cause": repr(refused.value.__cause__), "log": caplog.text,
             "stdout": printed.out, "stderr": printed.err}
    with duckdb.connect(str(settings.paths.warehouse), read_only=True) as con:
        assert con.execute("select count(*) from raw.consultation_responses").fetchone() == (2,)
        for schema, table in con.execute("select schema_name, table_name from duckdb_tables()").fetchall():
            rows = con.execute(f'select * from "{schema}"."{table}"').fetchall()
            texts[f"{schema}.{table}"] = repr(rows)
    for path in settings.paths.runs_dir.rglob("*"):
        if path.is_file():
            texts[str(path)] = path.read_text(errors="replace")
    for where, text in texts.items():
        for value in PERSONAL:
            assert value not in text, f"{value!r} reached {where}"
