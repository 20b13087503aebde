"""The bundle meets the real Databricks CLI, at the pinned version, against a stand-in
workspace on 127.0.0.1: every target validates `--strict`, one of each kind plans (all of
them in the slow test), and so does a domain scaffolded a moment ago. Without the CLI these
tests skip and say why."""

from __future__ import annotations

import re

import pytest
import yaml
from typer.testing import CliRunner

from lakehouse.bundle.databricks_cli import (
    DEVELOPER,
    CliNotFound,
    DatabricksCli,
    diagnostics,
    find_cli,
)
from lakehouse.bundle.offline_workspace import OfflineWorkspace
from lakehouse.bundle.targets import TARGETS_FILE
from lakehouse.bundle.validate import validate_bundle
from lakehouse.cli import app
from lakehouse.platform.domains import Domain
from lakehouse.platform.registry import load_domain_spec
from lakehouse.scoring.control_table import control_rows
from tests.bundle.conftest import REPO, edit

PLAN = re.compile(r"^Plan: (\d+) to add, 0 to change, 0 to delete, 0 unchanged$", re.MULTILINE)


@pytest.fixture(scope="module")
def cli() -> DatabricksCli:
    try:
        return find_cli(REPO)
    except CliNotFound as missing:
        pytest.skip(f"the real Databricks CLI checks did not run: {missing}")


# One target of each kind plans in the default run (a plan costs as much as a validation):
# a domain's in dev and in prod, and the platform's foundation. Every target plans in the
# slow test below, and in `./dev validate --plan`.
PLANNED = ["sales-dev", "finance-prod", "platform-prod"]


def test_every_target_validates_strictly_and_one_of_each_kind_plans_with_the_real_cli(cli):
    with OfflineWorkspace() as workspace:
        report = validate_bundle(REPO, plan=PLANNED, workspace=workspace)
    assert report.problems == {} and report.skipped == []
    assert sorted(report.plans) == sorted(PLANNED)
    _assert_each_plan_creates_resources(report.plans)
    sales = report.plans["sales-dev"]
    for resource in ("pipelines.crm_ingestion", "pipelines.sales_gold", "jobs.sales_refresh",
                     "schemas.dev_gold_sales", "schemas.dev_silver_crm"):  # fmt: skip
        assert f"create {resource}\n" in sales + "\n"
    assert "finance" not in sales and "hris" not in sales  # only its own domain
    assert "create volumes.prod_landing_crm_customers" in report.plans["platform-prod"]
    # The CLI really talked to the stand-in, for every workspace, and asked nothing unknown.
    assert len(workspace.workspaces) == 12
    for host, served in workspace.workspaces.items():
        assert "GET /api/2.0/preview/scim/v2/Me" in served.calls, host
        assert "POST /api/2.0/workspace/mkdirs" in served.calls, host
        assert served.unanswered == [], host


@pytest.mark.slow
def test_every_target_plans_with_the_real_cli(cli):
    with OfflineWorkspace() as workspace:
        report = validate_bundle(REPO, plan=True, workspace=workspace)
    targets = yaml.safe_load((REPO / TARGETS_FILE).read_text())["targets"]
    assert report.problems == {} and sorted(report.plans) == sorted(targets)
    _assert_each_plan_creates_resources(report.plans)


def _assert_each_plan_creates_resources(plans: dict[str, str]) -> None:
    for name, planned in plans.items():
        added = PLAN.search(planned)
        assert added and int(added.group(1)) > 0, (name, planned)


def test_two_developers_deploying_the_same_dev_target_write_different_schemas_and_models(cli):
    written, models = {}, {}
    with OfflineWorkspace() as workspace:
        for developer in (DEVELOPER, "other.dev@example.com"):
            run = cli.validate(REPO, "sales-dev", workspace, developer)
            assert run.clean, run.problems()
            resources = run.config()["resources"]
            pipelines = {f"{p['catalog']}.{p['schema']}" for p in resources["pipelines"].values()}
            created = {f"{s['catalog_name']}.{s['name']}" for s in resources["schemas"].values()}
            assert pipelines <= created  # each writes schemas its own deployment creates
            written[developer] = created
            model = resources["registered_models"]["sales_customer_churn"]
            # The model's schema is named by reference, so that a deploy creates it first.
            schema = re.fullmatch(r"\$\{resources\.schemas\.(\w+)\.name\}", model["schema_name"])
            assert schema, model["schema_name"]
            schema_name = resources["schemas"][schema.group(1)]["name"]
            models[developer] = f"{model['catalog_name']}.{schema_name}.{model['name']}"
            # The scoring job finds the model, its input and its output in the same schemas.
            (row,) = control_rows([Domain(REPO / "domains/sales")], "dev")
            task = resources["jobs"]["sales_scoring_customer_churn"]["tasks"][0]
            (prefix,) = [p.split("=", 1)[1] for p in task["python_wheel_task"]["parameters"] if p.startswith("--schema-prefix=")]  # fmt: skip
            scored = row.for_developer(prefix)
            assert scored.model == models[developer]
            assert {scored.input_table.rpartition(".")[0], scored.output_table.rpartition(".")[0]} <= created  # fmt: skip
    assert written[DEVELOPER] == {"dev_bronze.dev_first_last_crm", "dev_silver.dev_first_last_crm",
                                  "dev_gold.dev_first_last_sales"}  # fmt: skip
    assert written[DEVELOPER].isdisjoint(written["other.dev@example.com"])
    assert models[DEVELOPER] == "dev_gold.dev_first_last_sales.dev_first_last_customer_churn"
    assert models["other.dev@example.com"] != models[DEVELOPER]


def test_each_model_file_has_an_experiment_and_a_registered_model_for_the_domains_groups(cli):
    sales = load_domain_spec(REPO / "domains/sales/domain.yml")
    with OfflineWorkspace() as workspace:
        run = cli.validate(REPO, "sales-prod", workspace, sales.service_principals.for_env("prod"))
    assert run.clean, run.problems()
    resources = run.config()["resources"]
    experiment = resources["experiments"]["sales_customer_churn"]
    assert experiment["name"] == "/Workspace/Shared/sales/customer_churn"
    levels = {p.get("group_name"): p["level"] for p in experiment["permissions"]}
    groups = sales.groups
    assert {levels[groups.admins], levels[groups.engineers], levels[groups.readers]} == {"CAN_MANAGE", "CAN_READ"}  # fmt: skip
    assert levels[groups.readers] == "CAN_READ"
    model = resources["registered_models"]["sales_customer_churn"]
    assert (model["catalog_name"], model["schema_name"], model["name"]) == ("prod_gold", "sales", "customer_churn")  # fmt: skip
    grants = {g["principal"]: set(g["privileges"]) for g in model["grants"]}
    assert grants[groups.readers] == {"EXECUTE"} and "EXECUTE" in grants[groups.engineers]
    assert grants[groups.admins] == {"ALL_PRIVILEGES"}
    assert not any(key.startswith(("finance", "hr")) for key in resources["experiments"])


def test_a_freshly_scaffolded_domain_validates_strictly_and_plans(cli, bundle):
    created = CliRunner().invoke(app, [
        "domain", "new", "marketing", "--owner", "cmo@example.com", "--cost-centre", "CC-130",
        "--root", str(bundle),
    ])  # fmt: skip
    assert created.exit_code == 0, created.output
    validated = validate_bundle(bundle, ["marketing-dev", "marketing-test"])
    assert validated.problems == {} and validated.skipped == []
    report = validate_bundle(bundle, ["marketing-prod"], plan=True)
    assert report.problems == {} and report.skipped == []
    assert "create pipelines.marketing_gold" in report.plans["marketing-prod"]


def test_an_error_only_the_real_cli_finds_fails_validation_in_its_own_words(cli, bundle):
    file = bundle / "domains/sales/resources/sales_gold.pipeline.yml"
    edit(file, "include: ../pipelines/**", "include: ../../../../elsewhere/**")  # outside
    report = validate_bundle(bundle, ["sales-test"])
    assert report.problems == {
        "sales-test": [
            f"error: path {bundle.parent}/elsewhere/** is not contained in sync root path"
        ]
    }


def test_the_cli_diagnostics_are_read_with_their_place_and_strict_mode_summary_dropped():
    printed = (
        "Recommendation: permissions section should include the deployer\n"
        "  in databricks.yml:39:5\n\nConsider adding it.\n\n"
        "Warning: the bundle root path /Workspace/Shared/x is writable by all workspace users\n\n"
        "Error: 1 warning was found. Warnings are not allowed in strict mode\n"
    )
    found = diagnostics(printed)
    assert [str(d) for d in found] == [
        "recommendation: databricks.yml:39:5: permissions section should include the deployer",
        "warning: the bundle root path /Workspace/Shared/x is writable by all workspace users",
    ]
    assert found[0].detail == "Consider adding it."


def test_without_the_cli_validate_says_what_it_skipped_and_strict_fails(bundle, monkeypatch):
    monkeypatch.setenv("DATABRICKS_CLI", str(bundle / "no-such-cli"))
    monkeypatch.setenv("PATH", "/nonexistent")
    runner = CliRunner()
    loose = runner.invoke(app, ["bundle", "validate", "--root", str(bundle), "-t", "hr-dev"])
    assert loose.exit_code == 0, loose.output
    assert "skipped: real Databricks CLI checks: no Databricks CLI v1.13.0" in loose.output
    assert "no-such-cli does not exist" in loose.output
    assert "1 check(s) skipped" in loose.output or "2 check(s) skipped" in loose.output
    assert " valid (" not in loose.output  # never "valid" when a check did not run
    strict = runner.invoke(app, ["bundle", "validate", "--root", str(bundle), "-t", "hr-dev", "--strict"])  # fmt: skip
    assert strict.exit_code == 1


def test_the_stand_in_workspace_makes_the_cli_warn_where_a_real_one_would(cli, bundle):
    """Its folders and permissions are a new workspace's: a shared root path is writable by
    all users, and a developer's home folder is theirs, which the bundle must grant."""
    config = bundle / TARGETS_FILE
    principal = "00000000-0000-4000-8000-000000000902"
    edit(config, f"root_path: /Workspace/Users/{principal}/", "root_path: /Workspace/Shared/")
    edit(
        config, "    - level: CAN_MANAGE\n      user_name: ${workspace.current_user.userName}\n", ""
    )
    with OfflineWorkspace() as workspace:
        shared = cli.validate(bundle, "platform-test", workspace, principal)
        personal = cli.validate(bundle, "finance-dev", workspace, DEVELOPER)
    assert not shared.clean and not personal.clean
    assert any("is writable by all workspace users" in d.summary for d in shared.diagnostics)
    assert [d.severity for d in personal.diagnostics] == ["recommendation", "warning"]
    assert personal.diagnostics[1].summary == "workspace folder has permissions not configured in bundle"  # fmt: skip
    assert f"user_name: {DEVELOPER}" in personal.diagnostics[1].detail


def test_code_the_target_does_not_upload_is_refused(cli, bundle):
    """The CLI accepts a glob into another domain's folder, which sales' targets never upload."""
    file = "domains/sales/resources/sales_gold.pipeline.yml"
    edit(bundle / file, "include: ../pipelines/**", "include: ../../hr/pipelines/**")
    report = validate_bundle(bundle, ["sales-prod"])
    (problem,) = report.problems["sales-prod"]
    assert problem.startswith(f"{file}:")
    assert problem.endswith(
        "resources.pipelines.sales_gold.libraries.0: domains/hr/pipelines/** is not among the "
        "files this target uploads (src, domains/sales)"
    )


def test_an_active_sandpit_is_a_schema_its_owner_holds_and_an_expired_one_is_not(cli, bundle):
    from datetime import date, timedelta

    today = date.today()
    for name, created in (("churn_ideas", today), ("old_idea", today - timedelta(days=30))):
        (bundle / "sandpits" / f"{name}.yml").write_text(
            f"name: {name}\nowner: ana@example.com\ngroup: churn-squad\npurpose: Try things.\n"
            f"created: {created}\nexpires: {created + timedelta(days=14)}\n"
        )
    platform = load_domain_spec(REPO / "domains/platform.yml")
    with OfflineWorkspace() as workspace:
        run = cli.validate(bundle, "platform-prod", workspace, platform.service_principals.for_env("prod"))  # fmt: skip
    assert run.clean, run.problems()
    resources = run.config()["resources"]
    assert resources["catalogs"]["prod_sandpit"]["name"] == "prod_sandpit"
    sandpits = {k: v for k, v in resources["schemas"].items() if v["catalog_name"] == "prod_sandpit"}  # fmt: skip
    (schema,) = sandpits.values()
    assert schema["name"] == "churn_ideas"
    grants = {g["principal"]: g["privileges"] for g in schema["grants"]}
    assert grants == {"ana@example.com": ["ALL_PRIVILEGES"], "churn-squad": ["ALL_PRIVILEGES"]}
    assert schema["properties"]["lakehouse.sandpit.expires"] == str(today + timedelta(days=14))
    task = resources["jobs"]["platform_sandpit_cleanup"]["tasks"][0]["python_wheel_task"]
    assert task["entry_point"] == "lakehouse-sandpit-cleanup"
    assert task["parameters"][:2] == ["--env", "prod"]


def test_a_domains_owner_hears_of_failures_breaches_and_cost_over_its_limit(cli):
    sales = load_domain_spec(REPO / "domains/sales/domain.yml")
    with OfflineWorkspace() as workspace:
        run = cli.validate(REPO, "sales-prod", workspace, sales.service_principals.for_env("prod"))
    assert run.clean, run.problems()
    resources = run.config()["resources"]
    alert = resources["alerts"]["sales_cost"]
    evaluation = alert["evaluation"]
    assert evaluation["threshold"] == {"value": {"double_value": sales.monthly_cost_limit}}
    assert evaluation["notification"]["subscriptions"] == [{"user_email": sales.owner}]
    assert "u.custom_tags['domain'] = 'sales'" in alert["query_text"] and "cost_centre" in alert["query_text"]  # fmt: skip
    assert alert["warehouse_id"] == "${resources.sql_warehouses.sales_monitoring.id}"
    assert resources["sql_warehouses"]["sales_monitoring"]["enable_serverless_compute"] is True
    (notify,) = resources["pipelines"]["crm_ingestion"]["notifications"]
    assert notify["email_recipients"] == [sales.owner] and "on-update-failure" in notify["alerts"]
    assert resources["jobs"]["sales_refresh"]["email_notifications"] == {
        "on_failure": [sales.owner]
    }
    assert resources["jobs"]["sales_scoring_customer_churn"]["email_notifications"] == {"on_failure": [sales.owner]}  # fmt: skip
    # The hourly monitoring job fails on a breach, a quality drop or a failed pipeline, and
    # reads the event logs the pipelines publish where the local engine keeps them.
    monitoring = resources["jobs"]["sales_monitoring"]
    assert monitoring["email_notifications"] == {"on_failure": [sales.owner]}
    assert monitoring["schedule"]["quartz_cron_expression"] == "0 15 * * * ?"
    (task,) = monitoring["tasks"]
    wheel = task["python_wheel_task"]
    assert wheel["entry_point"] == "lakehouse-monitoring"
    assert wheel["parameters"][:4] == ["--env", "prod", "--domain", "sales"]
    logs = {name: p["event_log"] for name, p in resources["pipelines"].items()}
    assert logs == {
        "crm_ingestion": {"catalog": "prod_bronze", "schema": "crm", "name": "event_log"},
        "sales_gold": {"catalog": "prod_gold", "schema": "sales", "name": "event_log"},
    }
