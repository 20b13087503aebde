"""Offline bundle validation: every target builds through databricks-bundles and validates
against the CLI's schema; typos, the CLI's target rules and the platform's guardrails are
reported with their file, key and target."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from lakehouse.bundle.validate import (
    BuiltTarget,
    guardrail_problems,
    target_rule_problems,
    validate_bundle,
)
from lakehouse.cli import app
from tests.bundle.conftest import REPO, SHARED_SCHEMA, edit

TAGS = {"domain": "sales", "env": "dev", "cost_centre": "CC-110", "data_owner": "o@example.com"}


def test_every_target_of_the_repository_is_valid():
    report = validate_bundle(REPO)
    assert report.problems == {}
    if SHARED_SCHEMA.is_file():  # CI has the CLI's schema; say so when a clone does not
        assert report.notes == []
    else:
        assert "JSON schema check skipped" in report.notes[0]


def test_a_target_deploys_only_its_own_domain(bundle):
    report = validate_bundle(bundle, "sales-dev")
    assert report.ok
    from lakehouse.bundle.resources import build_target

    sales = build_target(bundle, "sales", "dev")
    assert sorted(sales.pipelines) == ["crm_ingestion", "sales_gold"]
    assert sorted(sales.jobs) == ["sales_refresh"]
    finance = build_target(bundle, "finance", "prod")
    assert sorted(finance.pipelines) == ["erp_ingestion", "finance_gold"]
    ingestion = finance.pipelines["erp_ingestion"][0].as_dict()
    assert ingestion["configuration"]["lakehouse.sourceSystem"] == "erp"
    assert ingestion["configuration"]["lakehouse.env"] == "prod"
    assert ingestion["continuous"] is True  # the GL lines are near-real-time
    assert build_target(bundle, "finance", "dev").pipelines["erp_ingestion"][0].continuous is False
    tasks = finance.jobs["finance_refresh"][0].as_dict()["tasks"]
    assert [(t["task_key"], [d["task_key"] for d in t.get("depends_on", [])]) for t in tasks] == [
        ("erp_ingestion", []),
        ("finance_gold", ["erp_ingestion"]),
    ]


def test_a_misspelled_key_in_a_domain_resource_names_the_file_and_the_key(bundle):
    file = bundle / "domains/sales/resources/sales_gold.pipeline.yml"
    edit(file, "      catalog: ${var.env}_gold", "      catalgo: ${var.env}_gold")
    report = validate_bundle(bundle, "sales-dev")
    assert list(report.problems) == ["sales-dev"]
    (problem,) = report.problems["sales-dev"]
    assert f"{file}:6: resources.pipelines.sales_gold.catalgo" in problem
    assert "Unexpected field 'catalgo'" in problem
    assert validate_bundle(bundle, "finance-dev").ok  # no other domain's target is affected


@pytest.mark.skipif(not SHARED_SCHEMA.is_file(), reason=f"no {SHARED_SCHEMA}")
def test_what_only_the_cli_schema_knows_is_refused_with_its_place(bundle):
    edit(bundle / "databricks.yml", "python:", "workspce:\n  host: x\n\npython:")
    edit(bundle / "databricks.yml", 'databricks_cli_version: "1.13.0"', "databricks_cli_version: 1.13")  # fmt: skip
    report = validate_bundle(bundle, "hr-test")
    assert report.problems["hr-test"] == [
        "databricks.yml: bundle.databricks_cli_version: 1.13 is not of type 'string'",
        "databricks.yml: workspce: unknown top-level field",
    ]


def test_a_stale_databricks_yml_and_a_hand_edited_target_are_reported(bundle):
    edit(bundle / "databricks.yml", "    mode: production", "    mode: prod")
    report = validate_bundle(bundle)
    assert report.problems["databricks.yml"] == [
        "targets are out of date with the registry: run `lakehouse bundle sync-targets`"
    ]
    assert "mode: expected development or production, got 'prod'" in report.problems["platform-test"]  # fmt: skip


def test_the_cli_target_rules():
    production = {
        "mode": "production",
        "workspace": {"host": "https://adb-1.1.azuredatabricks.net"},
    }
    assert target_rule_problems(production) == [
        "workspace.root_path: required in production mode",
        "run_as.service_principal_name: production targets run as a service principal",
    ]
    variable_host = {"mode": "development", "workspace": {"host": "${var.host}"}}
    assert target_rule_problems(variable_host) == [
        "workspace.host: '${var.host}' uses a variable; write the host as a literal"
    ]
    assert target_rule_problems({"mode": "staging", "workspace": {"host": "h"}}) == [
        "mode: expected development or production, got 'staging'"
    ]


def test_an_unpaused_schedule_in_development_is_refused(bundle):
    file = bundle / "domains/sales/resources/weekly.job.yml"
    file.write_text(
        "resources:\n  jobs:\n    sales_weekly:\n      name: sales_weekly\n"
        "      schedule:\n        quartz_cron_expression: 0 0 6 ? * MON\n"
        "        timezone_id: UTC\n        pause_status: UNPAUSED\n"
        "      tasks:\n        - task_key: gold\n          pipeline_task:\n"
        "            pipeline_id: ${resources.pipelines.sales_gold.id}\n"
    )
    dev = validate_bundle(bundle, "sales-dev")
    assert dev.problems["sales-dev"] == [
        f"{file.relative_to(bundle)}:3: resources.jobs.sales_weekly.schedule.pause_status: "
        "UNPAUSED in development mode; leave it paused"
    ]
    assert validate_bundle(bundle, "sales-prod").ok


def test_guardrails_refuse_clusters_other_domains_schemas_and_overridden_tags():
    built = BuiltTarget(
        {
            "presets": {"tags": {**TAGS, "cost_centre": "CC-999"}},
            "resources": {
                "pipelines": {
                    "sales_gold": {"serverless": True, "catalog": "dev_gold", "schema": "finance"},
                    "adhoc": {"clusters": [{"label": "default"}], "catalog": "dev_gold", "schema": "sales"},
                },
                "jobs": {"sales_refresh": {"tags": {"domain": "hr"}}},
                "schemas": {"dev_gold_sales": {"properties": {"domain": "sales", "env": "dev"}}},
            },
        },
        {"resources.pipelines.sales_gold": ("domains/sales/resources/gold.yml", 4)},
        [],
    )  # fmt: skip
    assert guardrail_problems(built, "sales", TAGS) == [
        "presets.tags.cost_centre: expected 'CC-110', got 'CC-999'",
        "resources.jobs.sales_refresh: tags.domain overrides the target's 'sales'",
        "resources.schemas.dev_gold_sales: untagged: properties lack cost_centre, data_owner",
        "domains/sales/resources/gold.yml:4: resources.pipelines.sales_gold: schema 'finance': "
        "a domain publishes gold only into its own schema 'sales'",
        "resources.pipelines.adhoc: pipelines run serverless, without clusters",
    ]


def test_bundle_validate_prints_problems_per_target_and_exits_non_zero(bundle):
    edit(bundle / "domains/sales/resources/sales_gold.pipeline.yml", "serverless: true", "serverles: true")  # fmt: skip
    runner = CliRunner()
    failed = runner.invoke(app, ["bundle", "validate", "--root", str(bundle), "-t", "sales-test"])
    assert failed.exit_code == 1
    assert "sales-test: 1 problem(s)" in failed.output and "serverles" in failed.output
    passed = runner.invoke(app, ["bundle", "validate", "--root", str(bundle), "-t", "hr-dev"])
    assert passed.exit_code == 0 and "hr-dev valid" in passed.output
