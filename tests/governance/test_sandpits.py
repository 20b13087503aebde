"""Innovation sandpits: the file `sandpit create` writes, what a broken one says, local expiry,
and the daily cleanup job against a stand-in workspace API through databricks-sdk."""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lakehouse.cli import app
from lakehouse.governance.sandpit_cleanup import EXPIRES, clean_up, main
from lakehouse.governance.sandpits import (
    SandpitError,
    expire_local,
    load_sandpit,
    load_sandpits,
    new_sandpit,
    write_sandpit,
)
from tests.fake_workspace_api import FakeWorkspaceApi

TODAY = date(2026, 12, 7)
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "databricks.yml").write_text("bundle:\n  name: lakehouse\n")
    return tmp_path


def _sandpit(root: Path, name: str, created: date, days: int = 14, **fields: str) -> None:
    reads = fields.pop("reads", "")
    extra = "".join(f"{k}: {v}\n" for k, v in fields.items())
    (root / "sandpits").mkdir(exist_ok=True)
    (root / "sandpits" / f"{name}.yml").write_text(
        f"name: {name}\nowner: ana@example.com\npurpose: Try things.\ncreated: {created}\n"
        f"expires: {created + timedelta(days=days)}\n{extra}{reads}"
    )


def test_sandpit_create_writes_a_file_that_loads_back_with_its_expiry(root):
    result = CliRunner().invoke(app, [
        "sandpit", "create", "churn_ideas", "--owner", "ana@example.com", "--days", "14",
        "--purpose", "Try churn features", "--read", "silver.crm.orders", "--root", str(root),
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    sandpit = load_sandpit(root / "sandpits/churn_ideas.yml")
    assert (sandpit.owner, sandpit.purpose) == ("ana@example.com", "Try churn features")
    assert sandpit.expires - sandpit.created == timedelta(days=14)
    assert sandpit.created == date.today()
    assert [r.table for r in sandpit.reads] == ["silver.crm.orders"]
    listed = CliRunner().invoke(app, ["sandpit", "list", "--root", str(root)])
    assert listed.exit_code == 0 and "churn_ideas" in listed.output and "14" in listed.output


OWNER = ["--owner", "ana@example.com"]


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (["Bad-Name", *OWNER, "--days", "7"], "NAME: expected a lower-case identifier"),
        (["ok", "--owner", "ana", "--days", "7"], "--owner: expected an e-mail address"),
        (["ok", *OWNER, "--days", "0"], "--days: expected 1 to 90 days, got 0"),
        (["ok", *OWNER, "--days", "91"], "--days: expected 1 to 90 days, got 91"),
        (
            ["ok", *OWNER, "--days", "7", "--read", "crm.orders"],
            "--read: expected <layer>.<schema>",
        ),
    ],
)
def test_sandpit_create_names_the_bad_argument_and_writes_nothing(root, arguments, expected):
    result = CliRunner().invoke(app, ["sandpit", "create", *arguments, "--root", str(root)])
    assert result.exit_code == 1 and expected in " ".join(result.output.split())
    assert not (root / "sandpits").exists()


def test_sandpit_create_never_overwrites_an_existing_sandpit(root):
    write_sandpit(root, new_sandpit("churn_ideas", "ana@example.com", 7, TODAY))
    before = (root / "sandpits/churn_ideas.yml").read_text()
    args = ["sandpit", "create", "churn_ideas", "--owner", "bo@example.com", "--days", "3"]
    result = CliRunner().invoke(app, [*args, "--root", str(root)])
    assert result.exit_code == 1 and "was created before" in result.output
    assert (root / "sandpits/churn_ideas.yml").read_text() == before


def test_a_broken_sandpit_file_names_each_field_and_line(root):
    (root / "sandpits").mkdir()
    (root / "sandpits/churn_ideas.yml").write_text(
        "name: other\nowner: ana@example.com\npurpose: Try things.\ncreated: 2026-12-07\n"
        "expires: 2027-04-06\ncolour: red\n"
    )
    _sandpit(root, "reads_badly", TODAY, reads="reads:\n  - table: silver.crm.orders\n    approval: {by: nobody}\n")  # fmt: skip
    with pytest.raises(SandpitError) as raised:
        load_sandpits(root)
    problems = {(p.file.name, p.line, p.field): p.message for p in raised.value.problems}
    assert "unknown field" in problems[("churn_ideas.yml", 6, "colour")]
    assert problems[("reads_badly.yml", 8, "reads[0].approval.by")] == "expected an e-mail address"  # fmt: skip
    assert problems[("reads_badly.yml", 8, "reads[0].approval.when")] == "Field required"
    result = CliRunner().invoke(app, ["sandpit", "list", "--root", str(root)])
    assert result.exit_code == 1 and "churn_ideas.yml:6: colour: unknown field" in result.output
    (root / "sandpits/churn_ideas.yml").write_text(
        (root / "sandpits/churn_ideas.yml").read_text().replace("colour: red\n", "")
    )
    with pytest.raises(SandpitError) as raised:
        load_sandpit(root / "sandpits/churn_ideas.yml")
    problems = {(p.line, p.field): p.message for p in raised.value.problems}
    assert problems[(1, "name")] == "expected 'churn_ideas', the file's name"
    assert problems[(5, "expires")] == "expected at most 90 days after created (2026-12-07)"


def _local_table(storage: Path, catalog: str, schema: str, table: str) -> None:
    log = storage / "catalog" / catalog / schema / table / "_delta_log"
    log.mkdir(parents=True)
    (log / "00000000000000000000.json").write_text("{}\n")


def test_expire_drops_expired_and_undeclared_local_sandpits_and_keeps_active_ones(root):
    _sandpit(root, "active", TODAY - timedelta(days=3))
    _sandpit(root, "old", TODAY - timedelta(days=30))
    storage = root / ".lakehouse"
    for catalog, schema in (("dev_sandpit", "active"), ("dev_sandpit", "old"),
                            ("test_sandpit", "stray"), ("dev_silver", "old")):  # fmt: skip
        _local_table(storage, catalog, schema, "notes")
    dropped = expire_local(storage, load_sandpits(root), TODAY)
    assert sorted((d.env, d.name, d.tables) for d in dropped) == [("dev", "old", ("notes",)), ("test", "stray", ("notes",))]  # fmt: skip
    assert (storage / "catalog/dev_sandpit/active/notes").is_dir()
    assert not (storage / "catalog/dev_sandpit/old").exists()
    assert (storage / "catalog/dev_silver/old/notes").is_dir()  # not a sandpit: never touched
    result = CliRunner().invoke(app, ["sandpit", "expire", "--storage", str(storage), "--root", str(root)])  # fmt: skip
    assert result.exit_code == 0 and "no local sandpit has expired" in result.output


def test_expire_says_what_it_dropped_and_refuses_a_missing_storage_folder(root):
    _sandpit(root, "old", date.today() - timedelta(days=30))
    _local_table(root / ".lakehouse", "dev_sandpit", "old", "notes")
    result = CliRunner().invoke(app, ["sandpit", "expire", "--storage", str(root / ".lakehouse"), "--root", str(root)])  # fmt: skip
    assert result.exit_code == 0
    assert f"dropped dev_sandpit.old (expired {date.today() - timedelta(days=16)}): notes" in result.output  # fmt: skip
    missing = CliRunner().invoke(app, ["sandpit", "expire", "--storage", str(root / "nope"), "--root", str(root)])  # fmt: skip
    assert missing.exit_code == 2 and "no such folder" in missing.output


OWNERS = {"silver.crm.customers": "head-of-sales-ops@example.com"}
APPROVED = "reads:\n  - table: silver.crm.customers\n    approval: {by: head-of-sales-ops@example.com, when: 2026-12-01}\n  - table: silver.crm.orders\n"  # fmt: skip


def test_cleanup_drops_expired_sandpits_and_grants_approved_reads_through_the_workspace_api(root):
    _sandpit(root, "active", TODAY - timedelta(days=3), reads=APPROVED, group="churn-squad")
    _sandpit(root, "old", TODAY - timedelta(days=30), reads=APPROVED)
    with FakeWorkspaceApi() as api:
        api.add_schema("prod_sandpit", "active", {EXPIRES: str(TODAY + timedelta(days=11))})
        api.add_schema("prod_sandpit", "old", {EXPIRES: str(TODAY - timedelta(days=16))})
        api.add_schema("prod_sandpit", "stray")  # no file, no expiry: nobody answers for it
        api.add_schema("prod_sandpit", "information_schema")
        api.add_schema("prod_silver", "crm")  # another catalog: never listed, never dropped
        report = clean_up(api.client(), "prod", load_sandpits(root), TODAY, OWNERS)
    assert sorted(report.dropped) == ["prod_sandpit.old", "prod_sandpit.stray"]
    assert sorted(api.schemas) == ["prod_sandpit.active", "prod_sandpit.information_schema", "prod_silver.crm"]  # fmt: skip
    deletes = [(c.path, c.query) for c in api.api_calls("DELETE")]
    assert ("/api/2.1/unity-catalog/schemas/prod_sandpit.old", {"force": "true"}) in deletes
    # Only the approved confidential read is granted (general data everybody reads), to the
    # active sandpit's owners, and taken back from the expired one's.
    assert api.grants == {"prod_silver.crm.customers": [
        {"principal": "ana@example.com", "add": ["SELECT"]},
        {"principal": "churn-squad", "add": ["SELECT"]},
        {"principal": "ana@example.com", "remove": ["SELECT"]},
    ]}  # fmt: skip
    assert report.failures == []


def test_cleanup_never_grants_a_read_approved_by_anybody_but_the_data_owner(root):
    reads = "reads:\n  - table: silver.crm.customers\n    approval: {by: ana@example.com, when: 2026-12-01}\n"  # fmt: skip
    _sandpit(root, "self_approved", TODAY - timedelta(days=3), reads=reads)
    with FakeWorkspaceApi() as api:
        report = clean_up(api.client(), "prod", load_sandpits(root), TODAY, OWNERS)
    assert api.grants == {}
    assert report.refused == ["self_approved: silver.crm.customers is approved by ana@example.com, not by its data owner"]  # fmt: skip


def test_cleanup_goes_on_past_a_refused_call_and_the_job_exits_non_zero(root, monkeypatch, capsys):
    shutil.copytree(REPO / "domains", root / "domains", ignore=shutil.ignore_patterns("__pycache__", "tests"))  # fmt: skip
    _sandpit(root, "old", TODAY - timedelta(days=30), reads=APPROVED)
    _sandpit(root, "older", TODAY - timedelta(days=40))
    with FakeWorkspaceApi() as api:
        api.add_schema("prod_sandpit", "old", {EXPIRES: "2026-11-21"})
        api.add_schema("prod_sandpit", "older", {EXPIRES: "2026-11-11"})
        api.failing[("DELETE", "/api/2.1/unity-catalog/schemas/prod_sandpit.old")] = 403
        monkeypatch.setenv("DATABRICKS_HOST", api.host)
        monkeypatch.setenv("DATABRICKS_TOKEN", "not-a-real-token")
        with pytest.raises(SystemExit) as exited:
            main(["--env", "prod", "--root", str(root)])
    assert exited.value.code == 1
    printed = capsys.readouterr().out
    assert "dropped prod_sandpit.older" in printed
    assert "failed: drop prod_sandpit.old: denied" in printed
    assert "revoked SELECT on prod_silver.crm.customers from ana@example.com" in printed
    assert sorted(api.schemas) == ["prod_sandpit.old"]
