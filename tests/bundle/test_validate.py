"""Bundle validation: domain resource files stay within their own domain's targets, the
offline checks where no CLI is found, the target rules and the platform's guardrails, each
problem with its file and line."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from lakehouse.bundle.guardrails import Guardrails, ResolvedTarget
from lakehouse.bundle.resources import build_target
from lakehouse.bundle.targets import TARGETS_FILE
from lakehouse.bundle.validate import deprecated_fields, target_rule_problems, validate_bundle
from lakehouse.cli import app
from lakehouse.platform.registry import load_domain_spec
from tests.bundle.conftest import REPO, SHARED_SCHEMA, edit

SALES_GOLD = "domains/sales/resources/sales_gold.pipeline.yml"


def test_offline_every_check_that_can_run_passes_and_the_cli_checks_are_named_skipped(bundle):
    report = validate_bundle(bundle, ["sales-dev", "platform-prod"], use_cli=False)
    assert report.problems == {}
    assert report.skipped[0] == "real Databricks CLI checks: not asked for"
    assert len(report.skipped) == (1 if SHARED_SCHEMA.is_file() else 2)


def test_python_resources_are_only_the_selected_domains_generated_ones():
    sales = build_target(REPO, "sales", "dev")
    assert sorted(sales.pipelines) == ["crm_ingestion"]  # sales_gold is the domain's YAML
    assert sorted(sales.jobs) == [
        "sales_monitoring",
        "sales_refresh",
        "sales_scoring_customer_churn",
    ]
    assert sorted(sales.schemas) == ["dev_bronze_crm", "dev_gold_sales", "dev_silver_crm"]
    finance = build_target(REPO, "finance", "prod")
    assert finance.schemas == {}  # the platform's foundation holds test and prod schemas
    ingestion = finance.pipelines["erp_ingestion"][0].as_dict()
    assert ingestion["schema"] == "${var.schema_prefix}erp"
    assert ingestion["libraries"] == [{"file": {"path": "src/lakehouse/ingestion/transformations/source_system.py"}}]  # fmt: skip
    assert ingestion["configuration"]["lakehouse.env"] == "prod"
    assert ingestion["configuration"]["lakehouse.schemaPrefix"] == "${var.schema_prefix}"
    assert ingestion["continuous"] is True  # the GL lines are near-real-time
    assert build_target(REPO, "finance", "dev").pipelines["erp_ingestion"][0].continuous is False
    tasks = finance.jobs["finance_refresh"][0].as_dict()["tasks"]
    assert [(t["task_key"], [d["task_key"] for d in t.get("depends_on", [])]) for t in tasks] == [
        ("erp_ingestion", []),
        ("finance_gold", ["erp_ingestion"]),
    ]


def test_a_misspelled_key_in_a_domain_resource_names_the_file_line_and_key(bundle):
    file = bundle / SALES_GOLD
    edit(file, "          catalog: ${var.env}_gold", "          catalgo: ${var.env}_gold")
    report = validate_bundle(bundle, ["sales-dev"])
    (problem,) = report.problems["domains"]
    assert problem.startswith(f"{file}:11: targets.sales-dev.resources.pipelines.sales_gold.catalgo: ")  # fmt: skip
    assert "Unexpected field 'catalgo'" in problem


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "resources:\n  jobs: {}\n",
            ":1: resources: a domain's resources are declared under its own targets only",
        ),
        (
            "targets:\n  hr-prod:\n    resources: {}\n",
            ":2: targets.hr-prod: not a target of domain 'sales'",
        ),
        (
            "targets:\n  sales-prod:\n    run_as:\n      user_name: x@example.com\n",
            ":2: targets.sales-prod: expected only 'resources'",
        ),
    ],
)
def test_a_domain_file_reaches_no_other_target_and_sets_nothing_but_resources(bundle, text, message):  # fmt: skip
    file = bundle / "domains/sales/resources/extra.yml"
    file.write_text(text)
    report = validate_bundle(bundle, ["sales-dev"])
    (problem,) = report.problems["domains"]
    assert problem.startswith(f"{file}{message}")


@pytest.mark.skipif(not SHARED_SCHEMA.is_file(), reason=f"no {SHARED_SCHEMA}")
def test_offline_what_only_the_cli_schema_knows_is_refused_with_its_place(bundle):
    edit(bundle / "databricks.yml", "python:", "workspce:\n  host: x\n\npython:")
    edit(bundle / "databricks.yml", 'databricks_cli_version: "1.13.0"', "databricks_cli_version: 1.13")  # fmt: skip
    report = validate_bundle(bundle, ["hr-test"], use_cli=False)
    assert report.problems["hr-test"] == [
        "databricks.yml: bundle.databricks_cli_version: 1.13 is not of type 'string'",
        "databricks.yml: workspce: unknown top-level field",
    ]


def test_a_stale_targets_file_or_codeowners_and_a_hand_edited_target_are_reported(bundle):
    edit(bundle / TARGETS_FILE, "    mode: production", "    mode: prod")
    (bundle / ".github/CODEOWNERS").write_text("* @someone\n")
    report = validate_bundle(bundle, use_cli=False)
    stale = "out of date with the registry: run `lakehouse bundle sync-targets`"
    assert report.problems[TARGETS_FILE] == [stale]
    assert report.problems[".github/CODEOWNERS"] == [stale]


def test_the_target_rules():
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


def test_offline_an_unpaused_schedule_in_development_is_refused(bundle):
    file = bundle / "domains/sales/resources/weekly.job.yml"
    file.write_text(
        "targets:\n  sales-dev:\n    resources:\n      jobs:\n        sales_weekly:\n"
        "          name: sales_weekly\n          schedule:\n"
        "            quartz_cron_expression: 0 0 6 ? * MON\n            timezone_id: UTC\n"
        "            pause_status: UNPAUSED\n          tasks:\n            - task_key: gold\n"
        "              pipeline_task:\n"
        "                pipeline_id: ${resources.pipelines.sales_gold.id}\n"
    )
    dev = validate_bundle(bundle, ["sales-dev", "sales-prod"], use_cli=False)
    assert dev.problems == {
        "sales-dev": [
            "domains/sales/resources/weekly.job.yml:6: resources.jobs.sales_weekly.schedule."
            "pause_status: UNPAUSED in development mode; leave it paused"
        ]
    }


def test_a_domain_writing_another_domains_schema_as_another_principal_is_refused(bundle):
    """What a pull request could try: a sales pipeline writing HR's silver, running as the
    platform's production principal. The real CLI when it is found, offline otherwise."""
    platform = load_domain_spec(bundle / "domains/platform.yml")
    edit(
        bundle / SALES_GOLD,
        "          catalog: ${var.env}_gold\n          schema: ${var.schema_prefix}sales",
        "          catalog: ${var.env}_silver\n          schema: hris\n          run_as:\n"
        f"            service_principal_name: {platform.service_principals.prod}",
    )
    report = validate_bundle(bundle, ["sales-prod"])
    assert report.problems == {
        "sales-prod": [
            f"{SALES_GOLD}:10: resources.pipelines.sales_gold: writes prod_silver.hris: a "
            "domain's pipelines write only its own schema, prod_gold.sales",
            f"{SALES_GOLD}:10: resources.pipelines.sales_gold.run_as: runs as "
            f"{platform.service_principals.prod}: sales's resources run only as its own service principals",
        ]
    }


def test_guardrails_refuse_clusters_overridden_tags_and_untagged_schemas():
    sales = load_domain_spec(REPO / "domains/sales/domain.yml")
    guardrails = Guardrails.of(sales, "dev", ["crm"])
    resolved = ResolvedTarget(
        {
            "presets": {"tags": {**guardrails.tags, "cost_centre": "CC-999"}},
            "variables": {"schema_prefix": {"value": "dev_first_last_"}},
            "resources": {
                "pipelines": {
                    "adhoc": {"clusters": [{"label": "default"}], "catalog": "dev_gold", "schema": "dev_first_last_sales"},
                    "crm_ingestion": {"serverless": True, "catalog": "dev_bronze", "schema": "dev_first_last_crm",
                                      "libraries": [{"file": {"path": "/W/files/src/lakehouse/ingestion/transformations/source_system.py"}}]},
                    "sneaky": {"serverless": True, "catalog": "dev_gold", "schema": "sales"},
                },
                "jobs": {"sales_refresh": {"tags": {"domain": "hr"}}},
                "schemas": {"dev_gold_sales": {"properties": {"domain": "sales", "env": "dev"}}},
            },
        },
        {"resources.pipelines.sneaky": ("domains/sales/resources/gold.yml", 4)},
    )  # fmt: skip
    assert guardrails.problems(resolved) == [
        "presets.tags.cost_centre: expected 'CC-110', got 'CC-999'",
        "resources.jobs.sales_refresh: tags.domain overrides the target's 'sales'",
        "resources.schemas.dev_gold_sales: untagged: properties lack cost_centre, data_owner",
        "resources.pipelines.adhoc: pipelines run serverless, without clusters",
        "domains/sales/resources/gold.yml:4: resources.pipelines.sneaky: writes dev_gold.sales: "
        "a domain's pipelines write only its own schema, dev_gold.dev_first_last_sales",
    ]


def test_bundle_validate_prints_problems_per_scope_and_exits_non_zero(bundle):
    edit(bundle / SALES_GOLD, "serverless: true", "serverles: true")
    runner = CliRunner()
    failed = runner.invoke(app, ["bundle", "validate", "--root", str(bundle), "-t", "sales-test"])
    assert failed.exit_code == 1
    assert "domains: 1 problem(s)" in failed.output and "serverles" in failed.output
    unknown = runner.invoke(app, ["bundle", "validate", "--root", str(REPO), "-t", "sales-qa"])
    assert unknown.exit_code == 1 and "no target 'sales-qa'" in unknown.output


@pytest.mark.skipif(not SHARED_SCHEMA.is_file(), reason=f"no {SHARED_SCHEMA}")
def test_a_field_the_cli_schema_deprecates_is_refused_with_its_place():
    schema = json.loads(SHARED_SCHEMA.read_text())
    resolved = ResolvedTarget(
        {"resources": {"jobs": {"x": {"environments": [{"environment_key": "d", "spec": {"client": "2"}}]}}}},
        {"resources.jobs.x": ("domains/sales/resources/x.yml", 3)},
    )  # fmt: skip
    assert deprecated_fields(resolved, schema) == [
        "domains/sales/resources/x.yml:3: resources.jobs.x.environments.0.spec.client: "
        "deprecated: This field is deprecated"
    ]
    current = {"environment_key": "d", "spec": {"environment_version": "2"}}
    resolved = ResolvedTarget({"resources": {"jobs": {"x": {"environments": [current]}}}}, {})
    assert deprecated_fields(resolved, schema) == []
