"""The access policy: general and public tables are readable platform-wide, everything else
only by the owning domain's roles; the foundation grants schemas to their owners."""

from __future__ import annotations

import json

import deltalake
import pyarrow as pa
import pytest
from typer.testing import CliRunner

from lakehouse.bundle.resources import build_target
from lakehouse.bundle.targets import layer_catalogs
from lakehouse.cli import app
from lakehouse.contracts.model import Classification
from lakehouse.engine.graph.names import TableName
from lakehouse.engine.storage.catalog import LocalCatalog
from lakehouse.governance.access import (
    EVERYBODY,
    TableAccess,
    table_access,
    table_grant_statements,
)
from lakehouse.governance.table_grants import apply_grants
from lakehouse.platform.registry import load_registry
from tests.bundle.conftest import REPO


def _properties(classification: str | None, columns: dict[str, str] | None = None) -> dict:
    found = {"lakehouse.classification": classification} if classification else {}
    if columns:
        found["lakehouse.classification.columns"] = json.dumps(columns)
    return found


def test_only_tables_classified_general_or_lower_in_every_column_are_granted_to_everybody():
    access = table_access({
        ("g", "s", "public"): _properties("public"),
        ("g", "s", "general"): _properties("general"),
        ("g", "s", "confidential"): _properties("confidential"),
        ("g", "s", "restricted_with_general_columns"): _properties("restricted", {"department": "general"}),
        ("g", "s", "general_with_a_confidential_column"): _properties("general", {"owner_email": "confidential"}),
        ("g", "s", "unclassified"): _properties(None),
        ("g", "s", "misspelled"): _properties("genral"),
    })  # fmt: skip
    assert [(a.table, a.readable_by_everybody) for a in access] == [
        (("g", "s", "confidential"), False),
        (("g", "s", "general"), True),
        (("g", "s", "general_with_a_confidential_column"), False),
        (("g", "s", "misspelled"), False),
        (("g", "s", "public"), True),
        (("g", "s", "restricted_with_general_columns"), False),
        (("g", "s", "unclassified"), False),
    ]


def test_raising_a_classification_revokes_the_platform_wide_grant():
    statements = table_grant_statements([
        TableAccess(("dev_gold", "hr", "headcount_by_department"), Classification.GENERAL),
        TableAccess(("dev_silver", "hris", "employees"), Classification.RESTRICTED),
    ])  # fmt: skip
    assert statements == [
        f"GRANT SELECT ON TABLE `dev_gold`.`hr`.`headcount_by_department` TO `{EVERYBODY}`",
        f"REVOKE SELECT ON TABLE `dev_silver`.`hris`.`employees` FROM `{EVERYBODY}`",
    ]


def test_every_identifier_of_a_grant_is_quoted_so_a_name_cannot_inject_sql():
    hostile = (
        "dev_gold",
        "sales-eu",
        "t` TO `account users`; GRANT ALL PRIVILEGES ON CATALOG `dev_gold",
    )
    (statement,) = table_grant_statements([TableAccess(hostile, Classification.RESTRICTED)])
    assert statement == (
        "REVOKE SELECT ON TABLE `dev_gold`.`sales-eu`."
        "`t`` TO ``account users``; GRANT ALL PRIVILEGES ON CATALOG ``dev_gold` FROM `account users`"
    )


def test_the_grants_job_goes_on_past_a_failure_and_reports_every_failure(capsys):
    statements = [
        "REVOKE SELECT ON TABLE `g`.`s`.`dropped` FROM `account users`",
        "GRANT SELECT ON TABLE `g`.`s`.`general` TO `account users`",
        "REVOKE SELECT ON TABLE `g`.`s`.`restricted` FROM `account users`",
    ]
    ran = []

    def run(statement: str) -> None:  # Unity Catalog, where the first table was just dropped
        if "dropped" in statement:
            raise RuntimeError(
                "[TABLE_OR_VIEW_NOT_FOUND] The table `g`.`s`.`dropped` cannot be found.\nmore"
            )
        ran.append(statement)

    failures = apply_grants(statements, run)
    assert ran == statements[1:]  # the REVOKE after the failure still ran
    assert [(f.statement, f.error) for f in failures] == [
        (statements[0], "[TABLE_OR_VIEW_NOT_FOUND] The table `g`.`s`.`dropped` cannot be found.")
    ]
    assert "failed: [TABLE_OR_VIEW_NOT_FOUND]" in capsys.readouterr().out


def test_a_general_table_whose_classified_columns_are_masked_is_granted_to_everybody():
    from lakehouse.governance.column_masks import ColumnMask
    from lakehouse.governance.table_grants import apply_governance

    general_with_email = _properties("general", {"email": "confidential", "country": "general"})
    tables = {("p", "erp", "cost_centres"): general_with_email, ("p", "crm", "customers"): general_with_email}  # fmt: skip
    masks = [
        ColumnMask(table, "email", "STRING", Classification.CONFIDENTIAL, ("owners",))
        for table in [*tables, ("p", "crm", "not_landed_yet")]
    ]

    def run(statement: str) -> None:  # Unity Catalog refuses one table's mask
        if "ALTER TABLE `p`.`crm`.`customers`" in statement:
            raise RuntimeError("[PERMISSION_DENIED] User does not have MANAGE on Table")

    statements, failures = apply_governance(tables, masks, run)
    assert "GRANT SELECT ON TABLE `p`.`erp`.`cost_centres` TO `account users`" in statements
    # A mask that was not set never widens the grant.
    assert "REVOKE SELECT ON TABLE `p`.`crm`.`customers` FROM `account users`" in statements
    assert [f.error for f in failures] == ["[PERMISSION_DENIED] User does not have MANAGE on Table"]  # fmt: skip
    assert not any("not_landed_yet" in s for s in statements)  # masks wait for their table
    assert statements.index("GRANT SELECT ON TABLE `p`.`erp`.`cost_centres` TO `account users`") > max(
        i for i, s in enumerate(statements) if "SET MASK" in s
    )  # fmt: skip


def test_the_grants_command_reads_the_classification_of_local_tables(tmp_path):
    catalog = LocalCatalog(tmp_path)
    for name, properties in {
        "dev_gold.hr.headcount_by_department": _properties("general"),
        "dev_silver.hris.employees": _properties("restricted", {"department": "general"}),
        "test_gold.hr.headcount_by_department": _properties("general"),  # another environment
    }.items():
        path = catalog.table_path(TableName.parse(name, "", ""))
        deltalake.DeltaTable.create(
            str(path),
            pa.schema([("x", pa.int64())]),
            configuration=properties,
            raise_if_key_not_exists=False,  # the platform's own properties
        )
    result = CliRunner().invoke(app, ["governance", "grants", "--storage", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "GRANT SELECT ON TABLE `dev_gold`.`hr`.`headcount_by_department` TO `account users`",
        "REVOKE SELECT ON TABLE `dev_silver`.`hris`.`employees` FROM `account users`",
    ]


def test_the_foundation_grants_each_schema_to_the_domain_owning_it():
    _, domains = load_registry(REPO)
    sales = next(d for d in domains if d.name == "sales")
    foundation = build_target(REPO, "platform", "prod")
    catalogs = layer_catalogs(load_registry(REPO)[0], "prod")
    assert sorted(catalogs) == ["prod_bronze", "prod_gold", "prod_landing", "prod_platform", "prod_recovery", "prod_sandpit", "prod_silver"]  # fmt: skip
    assert catalogs["prod_gold"]["grants"][0] == {"principal": EVERYBODY, "privileges": ["USE_CATALOG"]}  # fmt: skip
    assert {"prod_bronze_crm", "prod_silver_erp", "prod_landing_hris", "prod_gold_sales"} <= set(foundation.schemas)  # fmt: skip
    crm = foundation.schemas["prod_silver_crm"][0].as_dict()
    assert (crm["catalog_name"], crm["name"]) == ("prod_silver", "crm")
    grants = {g["principal"]: g["privileges"] for g in crm["grants"]}
    assert grants[EVERYBODY] == ["USE_SCHEMA"]  # tables are granted one by one
    assert "SELECT" in grants[sales.groups.readers] and "MODIFY" not in grants[sales.groups.readers]
    assert "MODIFY" in grants[sales.groups.engineers]
    assert grants[sales.groups.admins] == ["ALL_PRIVILEGES"]
    assert not any(group.startswith(("hr-", "finance-")) for group in grants)
    # Operators hold nothing on domain data beyond everybody's USE_SCHEMA: no ALL_PRIVILEGES.
    platform = load_registry(REPO)[0]
    assert platform.groups.engineers not in grants and platform.groups.admins not in grants
    volume = foundation.volumes["prod_landing_crm_customers"][0].as_dict()
    assert (volume["catalog_name"], volume["schema_name"], volume["name"]) == ("prod_landing", "crm", "customers")  # fmt: skip
    # The scoring control table: read by everybody, written by each domain's scoring job.
    control = foundation.schemas["prod_platform_scoring"][0].as_dict()
    writers = {g["principal"] for g in control["grants"] if "MODIFY" in g["privileges"]}
    assert writers == {d.service_principals.for_env("prod") for d in domains}
    job = foundation.jobs["platform_table_grants"][0].as_dict()
    task = job["tasks"][0]["python_wheel_task"]
    assert (task["package_name"], task["parameters"]) == ("lakehouse", ["--env", "prod", "--root", "${workspace.file_path}"])  # fmt: skip
    assert job["environments"][0]["spec"]["dependencies"] == ["dist/*.whl"]
    assert foundation.pipelines == {}


def test_the_grants_job_reads_tables_and_grants_through_the_workspace_api(monkeypatch, capsys):
    from lakehouse.governance.table_grants import main
    from tests.fake_workspace_api import FakeWorkspaceApi

    statements: list[str] = []

    class Session:  # Spark on the job's compute: runs the masks' SQL
        @staticmethod
        def sql(statement: str) -> None:
            statements.append(statement)

    monkeypatch.setattr("pyspark.sql.SparkSession.Builder.getOrCreate", lambda self: Session())
    with FakeWorkspaceApi() as api:
        masked = _properties("general", {"owner_email": "confidential"})
        api.add_table("prod_silver.erp.cost_centres", masked)
        api.add_table("prod_silver.crm.customers", _properties("confidential"))
        api.add_table("prod_gold.hr.headcount_by_department", _properties("general"))
        api.add_table("prod_gold.hr.gone", _properties("general"))
        api.add_schema("prod_bronze", "information_schema")
        api.failing[("PATCH", "/api/2.1/unity-catalog/permissions/table/prod_gold.hr.gone")] = 404
        monkeypatch.setenv("DATABRICKS_HOST", api.host)
        monkeypatch.setenv("DATABRICKS_TOKEN", "not-a-real-token")
        with pytest.raises(SystemExit) as exited:
            main(["--env", "prod", "--root", str(REPO)])
    assert exited.value.code == 1  # the dropped table's grant failed; the others went on
    changes = {name: ["add" if "add" in c else "remove" for c in found] for name, found in api.grants.items()}  # fmt: skip
    assert changes == {
        "prod_silver.erp.cost_centres": ["add"],  # its confidential column is masked first
        "prod_silver.crm.customers": ["remove"],
        "prod_gold.hr.headcount_by_department": ["add"],
    }
    assert api.grants["prod_silver.erp.cost_centres"] == [{"principal": "account users", "add": ["SELECT"]}]  # fmt: skip
    set_mask = "ALTER TABLE `prod_silver`.`erp`.`cost_centres` ALTER COLUMN `owner_email` SET MASK"
    assert any(s.startswith(set_mask) for s in statements)
    assert not any("GRANT" in s or "REVOKE" in s for s in statements)  # grants go through the API
    assert "prod_gold`.`hr`.`gone`" in capsys.readouterr().out
