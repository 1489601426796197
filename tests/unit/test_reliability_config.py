"""Hostile configuration, SQL built from values, and credentials: refused at settings load, never
interpolated into SQL as a quoted value, never in a tracked file, a log line or an error."""

from __future__ import annotations

import ast
import logging
import re
import subprocess
from pathlib import Path

import pytest

from ingest.config import ConfigError, load_settings
from ingest.http import HttpGaveUp, ResilientSession, redact
from ingest.raw.landing import LandingError, NotPublished, fetch_to_landing
from tests.unit.test_http import FAST, scripted  # noqa: F401  (the scripted-server fixture)

REPO = Path(__file__).resolve().parents[2]
# Built from parts, so this file holds no credential-shaped literal for the scan below to find.
USER, SECRET, TOKEN = "analyst", "s3cr3t-" + "pw", "tok-" + "9f8e7d6c5b4a"

HOSTILE = ["lancashire'; drop table x;--", "../../etc", "west midlands", ""]


# --------------------------------------------------------------------------- configuration


@pytest.mark.parametrize("bad", HOSTILE)
def test_a_hostile_force_id_is_refused_at_settings_load_naming_the_key(bad):
    with pytest.raises(ConfigError, match=r"\[police_uk\] forces: "):
        load_settings(environ={"OPCC_POLICE_UK__FORCES": bad})


@pytest.mark.parametrize("key", ["first_month", "last_month"])
@pytest.mark.parametrize("bad", [*HOSTILE, "2024-13", "2024-3"])
def test_a_hostile_month_is_refused_at_settings_load_naming_the_key(key, bad):
    with pytest.raises(ConfigError, match=rf"\[police_uk\] {key}: expected a month as YYYY-MM"):
        load_settings(environ={f"OPCC_POLICE_UK__{key.upper()}": bad})


@pytest.mark.parametrize("bad, why", [
    ("https://data.police.uk/data/archive/{month}.zip'; drop table x;--", "space, quote"),
    ("https://data.police.uk/data/archive/{month}.zip\n", "space, quote"),
    ("ftp://data.police.uk/{month}.zip", "is not an https/http/file URL"),
    ("../../etc/{month}.zip", "is not an https/http/file URL"),
    ("file:///srv/archive/../../etc/{month}.zip", r"climbs out of its folder with '\.\.'"),
    ("https://data.police.uk/{month.__class__.__init__.__globals__}.zip", "may only use the placeholders"),
    ("https://data.police.uk/{month}/{0}.zip", "may only use the placeholders"),
    ("", "is not an https/http/file URL"),
])
def test_a_hostile_archive_url_template_is_refused_at_settings_load_naming_the_key(bad, why):
    with pytest.raises(ConfigError, match=rf"\[police_uk\] archive_url: .*{why}"):
        load_settings(environ={"OPCC_POLICE_UK__ARCHIVE_URL": bad})


def test_a_hostile_api_url_is_refused_and_an_empty_one_means_offline():
    with pytest.raises(ConfigError, match=r"\[police_uk\] api_url: 'javascript:alert\(1\)' is not an"):
        load_settings(environ={"OPCC_POLICE_UK__API_URL": "javascript:alert(1)"})
    assert load_settings(environ={"OPCC_POLICE_UK__API_URL": ""}).police_uk.api_url == ""


@pytest.mark.parametrize("bad", HOSTILE)
def test_a_force_id_elsewhere_in_the_configuration_is_refused_naming_its_section(tmp_path, bad):
    overlay = tmp_path / "overlay.toml"
    overlay.write_text(f'[report]\nforce_id = "{bad}"\n' if bad else '[report]\nforce_id = ["lancashire", ""]\n')
    with pytest.raises(ConfigError, match=r"overlay\.toml \[report\] force_id: "):
        load_settings(environ={"OPCC_CONFIG": str(overlay)})


def test_the_shipped_configurations_pass_the_checks():
    for overlay in (None, "config/demo.toml"):
        settings = load_settings(environ={"OPCC_CONFIG": overlay} if overlay else {})
        assert settings.police_uk.forces == ("lancashire", "west-midlands")


# --------------------------------------------------------------------------- SQL built from values


def quoted_interpolations(source: str) -> list[tuple[int, str]]:
    """``(line, expression)`` for each f-string value written between single quotes in SQL text
    passed to ``execute``/``executemany``/``sql``/``query`` — a value that should be a bound
    parameter. Module constants (``UPPER_CASE`` names) are code, not data, and are allowed."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in {"execute", "executemany", "sql", "query"} and node.args):
            continue
        sql = node.args[0]
        if not isinstance(sql, ast.JoinedStr):
            continue
        parts = sql.values
        for index, part in enumerate(parts):
            if not isinstance(part, ast.FormattedValue):
                continue
            before = parts[index - 1] if index > 0 else None
            after = parts[index + 1] if index + 1 < len(parts) else None
            opens = isinstance(before, ast.Constant) and str(before.value).endswith("'")
            closes = isinstance(after, ast.Constant) and str(after.value).startswith("'")
            constant = isinstance(part.value, ast.Name) and part.value.id.isupper()
            if opens and closes and not constant:
                found.append((part.value.lineno, ast.unparse(part.value)))
    return found


# Known sites, each with why it is safe today; the change that removes them is described in
# docs/architecture.md (bind both as parameters: DuckDB 2.0 accepts `?` in COPY's query and target).
ALLOWED_QUOTED_VALUES: set[tuple[str, str]] = set()  # none: every value is bound


def test_the_scan_finds_a_quoted_value_and_passes_identifiers_and_parameters():
    hostile = 'con.execute(f"delete from raw.{table} where month = \'{month}\' and x = ?", [x])'
    assert quoted_interpolations(hostile) == [(1, "month")]
    assert quoted_interpolations('con.execute(f"select * from raw.{quote_identifier(t)} where m = ?", [m])') == []
    assert quoted_interpolations("con.execute(f\"read_csv(?, rejects_table = '{REJECTS_TABLE}')\", [p])") == []


def test_no_sql_in_ingest_quotes_an_interpolated_value():
    found = set()
    for path in sorted((REPO / "ingest").rglob("*.py")):
        relative = path.relative_to(REPO).as_posix()
        for line, expression in quoted_interpolations(path.read_text()):
            if (relative, expression) not in ALLOWED_QUOTED_VALUES:
                found.add(f"{relative}:{line}: '{{{expression}}}'")
    assert not found, "bind these as parameters (?) instead of quoting them into the SQL: " + ", ".join(sorted(found))


# --------------------------------------------------------------------------- credentials in the repository

SECRET_PATTERNS = {
    # a literal password in a URL's authority (a ${VAR}, {name} or %(name)s reference is not one)
    "password in a URL": re.compile(r"\b[a-z][a-z0-9+.-]*://[^/\s:@'\"]*:(?![$%{])[^/\s@'\"{}]+@[\w.-]"),
    "Airflow secret with a literal value": re.compile(
        r"\bAIRFLOW__[A-Z0-9_]*(?:PASSWORD|SECRET|FERNET_KEY)[A-Z0-9_]*\s*[=:]\s*(?![\"']?\$)[\"']?[^\s\"'$]+"),
    "private key": re.compile(r"-----BEGIN (?:[A-Z]+ )*PRIVATE KEY-----"),
    "Fernet key": re.compile(r"(?i)fernet[_ ]?key\s*[=:]\s*[\"']?[A-Za-z0-9_-]{43}="),
    "bearer token": re.compile(r"(?i)\bauthorization\b[\"']?\s*[:=]\s*[\"']?bearer\s+[A-Za-z0-9._~+/-]{16,}"),
}
ALLOWED_SECRET_FILES = {".env.example"}  # placeholders a person copies to .env


def secrets_in(text: str) -> list[str]:
    return [name for name, pattern in SECRET_PATTERNS.items() if pattern.search(text)]


def test_the_secret_patterns_find_what_they_are_for():
    at = "@"
    assert secrets_in(f"url = 'postgresql://airflow:{SECRET}{at}db/airflow'") == ["password in a URL"]
    assert secrets_in("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_PASSWORD=" + SECRET) == ["Airflow secret with a literal value"]
    assert secrets_in("-----BEGIN " + "OPENSSH PRIVATE KEY-----") == ["private key"]
    assert secrets_in("FERNET_KEY = '" + "x" * 43 + "='") == ["Fernet key"]
    assert secrets_in('{"Authorization": "Bearer ' + TOKEN * 2 + '"}') == ["bearer token"]
    # references and empty values are not secrets
    assert secrets_in("postgresql+psycopg2://airflow:${POSTGRES_PASSWORD}" + at + "postgres/airflow") == []
    assert secrets_in('f"postgresql://airflow:{self.password}' + at + '127.0.0.1/airflow"') == []
    assert secrets_in("redis://:" + at + "redis:6379/0") == []
    assert secrets_in("AIRFLOW__CORE__FERNET_KEY: ${AIRFLOW_FERNET_KEY:-}") == []


def test_no_tracked_file_holds_a_credential():
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout
    names = [n for n in tracked.decode().split("\0") if n]
    assert len(names) > 100  # the listing worked
    found = []
    for name in names:
        path = REPO / name
        if name in ALLOWED_SECRET_FILES or not path.is_file() or path.stat().st_size > 5_000_000:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # binary (workbooks, PDFs): no text credential to read
        for number, line in enumerate(text.splitlines(), 1):
            for kind in secrets_in(line):
                found.append(f"{name}:{number}: {kind}")
    assert not found, found


# --------------------------------------------------------------------------- credentials in logs and errors


def test_redact_removes_url_passwords_secret_parameters_and_authorization_values():
    url = f"https://{USER}:{SECRET}@data.example.org/x.zip?month=2024-03&api_key={TOKEN}&sig={TOKEN}"
    assert redact(url) == "https://***@data.example.org/x.zip?month=2024-03&api_key=***&sig=***"
    assert redact(f"headers {{'Authorization': 'Bearer {TOKEN}'}}") == "headers {'Authorization': '***'}"
    assert redact(f"Authorization: Basic {TOKEN}") == "Authorization: ***"
    assert redact("https://data.police.uk/api/forces?date=2024-03") == "https://data.police.uk/api/forces?date=2024-03"


def _leaks(text: str) -> list[str]:
    return [value for value in (SECRET, TOKEN) if value in text]


def test_http_log_lines_and_errors_never_show_url_credentials(scripted, caplog):
    server = scripted((503, {}, b""))
    url = server.url("/data.zip").replace("http://", f"http://{USER}:{SECRET}@") + f"?token={TOKEN}"
    session = ResilientSession(FAST)
    with caplog.at_level(logging.DEBUG):
        with pytest.raises(HttpGaveUp) as gave_up:
            session.get_json(url)
        with pytest.raises(HttpGaveUp) as refused:  # nothing listening: a connection error
            session.get(f"http://{USER}:{SECRET}@127.0.0.1:9/x?token={TOKEN}")
    assert "503" in str(gave_up.value) and "4 attempts" in str(gave_up.value)
    for text in (str(gave_up.value), repr(gave_up.value), gave_up.value.url, str(refused.value), caplog.text):
        assert not _leaks(text), text
    assert "***@127.0.0.1" in caplog.text and "token=***" in caplog.text
    # The server did receive the credentials: they are redacted in messages, not dropped from requests.
    assert server.seen[0][1]["Authorization"].startswith("Basic ")


def test_an_authorization_header_never_reaches_the_log(scripted, caplog):
    server = scripted((500, {}, b""))
    session = ResilientSession(FAST)
    with caplog.at_level(logging.DEBUG):
        with pytest.raises(HttpGaveUp) as gave_up:
            session.get(server.url("/api"), headers={"Authorization": f"Bearer {TOKEN}"})
    assert server.seen[0][1]["Authorization"] == f"Bearer {TOKEN}"
    assert not _leaks(caplog.text + str(gave_up.value))


def test_landing_logs_errors_and_manifest_never_show_url_credentials(scripted, caplog, tmp_path):
    server = scripted((200, {"ETag": '"v1"'}, b"PK archive bytes"), (404, {}, b""))
    url = server.url("/2024-03.zip").replace("http://", f"http://{USER}:{SECRET}@") + f"?api_key={TOKEN}"
    from ingest import http

    http.configure(FAST)
    try:
        with caplog.at_level(logging.DEBUG):
            row = fetch_to_landing(url, tmp_path / "2024-03.zip", source="police_uk", partition="2024-03",
                                   max_bytes=10**6)
            with pytest.raises(NotPublished) as missing:
                fetch_to_landing(url, tmp_path / "other.zip", source="police_uk", partition="2024-03", max_bytes=10**6)
            with pytest.raises(LandingError) as unsupported:
                fetch_to_landing(f"ftp://{USER}:{SECRET}@host/x.zip", tmp_path / "x.zip", source="police_uk",
                                 partition="2024-03", max_bytes=10**6)
    finally:
        http.reset()
    manifest = (tmp_path / "2024-03.zip.manifest.json").read_text()
    for text in (row.url, manifest, str(missing.value), str(unsupported.value), caplog.text):
        assert not _leaks(text), text
    assert row.url.startswith("http://***@127.0.0.1:") and row.url.endswith("?api_key=***")
