"""The consultation export: personal data dropped or pseudonymised at load, both priority layouts,
refusals that name the problem, and the sample's biases."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import duckdb
import pytest

from ingest.landing import LandingError
from ingest.reference_load import HeaderError
from ingest.sample import consultation as sample
from ingest.sources import consultation
from ingest.sources.consultation import ConsultationError, PseudonymisationKeyMissing

KEY = b"unit-test-key-0123456789abcdef"
HEADER = ("Respondent ID,Collector,Started,Completed,Full name,Email address,Telephone number,Postcode,District,Age,"
          "Sex,Ethnic group,Disability,Priority 1,Priority 2,Priority 3,Confidence in police,Any other comments")
ROW_1 = ('101,Web link,01/10/2025 10:00:00,01/10/2025 10:09:00,Siân Evans,sian.evans7@example.org,07700 900123,PR1 2AB,'
         'Preston,65-74,Female,White,No,Tackling anti-social behaviour,Making roads safer,,Tend to agree,'
         '"Speeding on our road is dangerous. Ring me on 07700 900123, Siân"')
ROW_2 = ('102,Telephone interview,02/10/2025 18:00:00,02/10/2025 18:12:00,,,,,Burnley,16-24,Male,'
         '"Asian, Asian British or Asian Welsh",Prefer not to say,Making women and girls safer,'
         'Tackling hate crime,Tackling drug dealing and drug use,Strongly disagree,')


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
    assert consultation.pseudonymisation_key(section, {"OPCC_CONSULTATION_KEY": "x" * 32}) == b"x" * 32
    with pytest.raises(PseudonymisationKeyMissing, match="Set the environment variable OPCC_CONSULTATION_KEY"):
        consultation.pseudonymisation_key(section, {})
    with pytest.raises(PseudonymisationKeyMissing, match="shorter than 16 bytes"):
        consultation.pseudonymisation_key(section, {"OPCC_CONSULTATION_KEY": "short"})
    # a configured Airflow connection outside a task gives no key: the same clear error, not a crash
    with pytest.raises(PseudonymisationKeyMissing, match="pseudonymisation_key_conn_id"):
        consultation.pseudonymisation_key({**section, "pseudonymisation_key_conn_id": "opcc_consultation_key"}, {})
    demo = {**section, "demo_pseudonymisation_key": "demo-only-key-not-for-real-responses"}
    assert consultation.pseudonymisation_key(demo, {}) == b"demo-only-key-not-for-real-responses"


def test_derive_drops_personal_columns_and_keeps_only_comment_flags(tmp_path):
    derived = consultation.derive(_export(tmp_path, ROW_1, ROW_2), "export.csv", "lancashire-2025", KEY)
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
    (derived,) = consultation.derive(_export(tmp_path, row, header=header), "e.csv", "s", KEY).rows
    assert derived[8:12] == ["", "", "", "Tackling domestic abuse; Making roads safer"]
    assert derived[-1] == "response_times"  # "101"; "Burglars" is not the whole word "burglary"


def test_a_personal_column_the_contract_does_not_know_is_refused_by_name(tmp_path):
    path = _export(tmp_path, ROW_1 + ",x", header=HEADER + ",Date of birth")
    with pytest.raises(HeaderError, match="unexpected columns: Date of birth"):
        consultation.derive(path, "export.csv", "s", KEY)


def test_an_export_without_a_priorities_question_is_refused(tmp_path):
    header = HEADER.replace("Priority 1,Priority 2,Priority 3,", "")
    with pytest.raises(HeaderError, match="no priorities question"):
        consultation.derive(_export(tmp_path, header=header), "export.csv", "s", KEY)


def test_an_answer_that_is_not_an_option_is_refused_naming_it_and_the_line(tmp_path):
    row = ROW_2.replace("Tackling hate crime", "Tackling litter")
    with pytest.raises(ConsultationError) as refused:
        consultation.derive(_export(tmp_path, ROW_1, row), "export.csv", "s", KEY)
    assert "'Tackling litter' on lines 3" in str(refused.value) and "consultation_priorities" in str(refused.value)


def test_a_row_with_the_wrong_cell_count_is_refused_without_keeping_its_content(tmp_path):
    derived = consultation.derive(_export(tmp_path, ROW_1, "103,Web link,Preston"), "export.csv", "s", KEY)
    assert len(derived.rows) == 1
    assert derived.refused == [(3, "3 cells where the header has 18; the row was refused and its content not kept "
                                   "(it may hold personal data)")]


def test_an_export_not_in_utf8_is_refused_naming_the_line_even_far_down(tmp_path):
    path = tmp_path / "export.csv"
    rows = [ROW_2.replace("102,", f"{200 + i},", 1) for i in range(80)] + [ROW_1]  # Siân on line 82
    path.write_bytes("\r\n".join([HEADER, *rows, ""]).encode("cp1252"))
    with pytest.raises(LandingError, match=r"export.csv: is not UTF-8 .* at line 82"):
        consultation.derive(path, "export.csv", "s", KEY)


def test_load_export_replaces_the_partition_gated_and_logs_refusals(tmp_path):
    path = _export(tmp_path, ROW_1, ROW_2, "103,Web link,Preston")
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        consultation.ensure_raw_tables(con)
        partition = {"_survey": "lancashire-2025", "_force_id": "lancashire"}
        for _ in range(2):  # a reload replaces, not appends
            result = consultation.load_export(con, path, partition=partition, key=KEY, source_file="export.csv",
                                              file_sha256="0" * 64, results_dir=tmp_path / "gates")
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
    from ingest.reference_load import ReferenceGateFailed

    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        consultation.ensure_raw_tables(con)
        partition = {"_survey": "s", "_force_id": "lancashire"}
        consultation.load_export(con, _export(tmp_path, ROW_1), partition=partition, key=KEY, source_file="a.csv",
                                 file_sha256="0" * 64)
        with pytest.raises(ReferenceGateFailed, match="respondent_key"):
            consultation.load_export(con, _export(tmp_path, ROW_1, ROW_2, ROW_1), partition=partition, key=KEY,
                                     source_file="b.csv", file_sha256="1" * 64)
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
    derived = consultation.derive(path, "s.csv", "lancashire-2025", KEY)
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
