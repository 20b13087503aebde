"""The scoring control table comes from ``domains/<d>/models/*.yml``: each row resolved for
an environment, and every mistake reported with its file, line and field."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from lakehouse.cli import app
from lakehouse.platform.domains import Domain, find_domains
from lakehouse.scoring.control_table import Mode, ScoringError, control_rows

VALID = """\
model: ${env}_gold.shop.churn
alias: champion
input_table: ${env}_gold.shop.customers
keys: [customer_id]
features: [orders, segment]
output_table: ${env}_gold.shop.churn_predictions
schedule: "0 0 6 * * ?"
"""


def _domain(tmp_path, text: str) -> Domain:
    models = tmp_path / "shop" / "models"
    models.mkdir(parents=True)
    (tmp_path / "shop" / "pipelines").mkdir()
    (models / "churn.yml").write_text(text)
    return Domain(tmp_path / "shop")


def test_the_sales_churn_model_is_a_row_per_environment():
    (row,) = control_rows(find_domains(), "prod")
    assert (row.domain, row.name, row.model, row.model_reference) == (
        "sales", "customer_churn", "prod_gold.sales.customer_churn",
        "prod_gold.sales.customer_churn@champion",
    )  # fmt: skip
    assert (row.input_table, row.output_table, row.mode, row.enabled) == (
        "prod_gold.sales.customer_360", "prod_gold.sales.customer_churn_predictions",
        Mode.INCREMENTAL, True,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("alias: champion\n", "alias: champion\nversion: 2\n"),
         ":1: (whole file): give either alias (e.g. champion) or version, not both or neither"),
        (("${env}_gold.shop.customers", "customers"),
         ":3: input_table: expected ${env}_<catalog>.<schema>.<name> in lower case, got 'customers'"),
        (("[orders, segment]", "[orders, customer_id]"),
         ":1: (whole file): keys are not features: ['customer_id']"),
        (("keys: [customer_id]", "keys: []"), ":4: keys: expected at least one column"),
        (('"0 0 6 * * ?"', "daily"),
         ":7: schedule: expected a Quartz cron expression (6 or 7 fields, e.g. '0 0 6 * * ?'), "
         "got 'daily'"),
        (("schedule:", "mode: sometimes\nschedule:"),
         ":7: mode: Input should be 'full' or 'incremental'"),
        (("alias:", "modle: x\nalias:"), ":2: modle: unknown field; expected one of"),
        (("${env}_gold.shop.churn_predictions", "${env}_gold.sales.churn_predictions"),
         ":6: output_table: expected ${env}_gold.shop.<name>: a domain's models and predictions "
         "live in its own gold schema"),
        (("model: ${env}_gold.shop.churn", "model: ${env}_silver.shop.churn"),
         ":1: model: expected ${env}_gold.shop.<name>"),
    ],
    ids=["alias-and-version", "short-table", "key-feature", "no-keys", "schedule", "mode", "typo",
         "other-domain", "not-gold"],
)  # fmt: skip
def test_a_bad_model_file_names_the_file_line_and_field(tmp_path, change, expected):
    domain = _domain(tmp_path, VALID.replace(*change))
    with pytest.raises(ScoringError) as error:
        control_rows([domain], "dev")
    assert str(error.value).startswith(f"{domain.folder / 'models' / 'churn.yml'}{expected}")


def test_a_developers_own_deployment_scores_in_their_own_schemas_and_model():
    (row,) = control_rows(find_domains(), "dev")
    own = row.for_developer("dev_ann_")
    assert (own.model, own.input_table, own.output_table) == (
        "dev_gold.dev_ann_sales.dev_ann_customer_churn", "dev_gold.dev_ann_sales.customer_360",
        "dev_gold.dev_ann_sales.customer_churn_predictions",
    )  # fmt: skip
    assert row.for_developer("") == row


def test_scoring_run_reports_bad_files_and_unknown_models_before_starting_spark(tmp_path):
    _domain(tmp_path / "domains", VALID.replace("alias: champion\n", ""))
    (tmp_path / "databricks.yml").write_text("bundle:\n  name: t\n")
    runner = CliRunner()
    bad = runner.invoke(
        app, ["scoring", "run", "--storage", str(tmp_path), "--root", str(tmp_path)]
    )
    assert bad.exit_code == 1
    assert "churn.yml:1: (whole file): give either alias" in bad.output
    unknown = runner.invoke(app, ["scoring", "run", "--model", "nope", "--storage", str(tmp_path)])
    assert unknown.exit_code == 1
    assert "no model file named 'nope' (there are: customer_churn)" in unknown.output


def test_each_model_file_is_a_serverless_job_on_its_schedule_in_its_domains_targets():
    from pathlib import Path

    from lakehouse.bundle.resources import build_target

    root = Path(__file__).resolve().parents[2]
    job = build_target(root, "sales", "prod").jobs["sales_scoring_customer_churn"][0].as_dict()
    assert job["schedule"] == {
        "quartz_cron_expression": "0 0 6 * * ?", "timezone_id": "Europe/Amsterdam",
    }  # fmt: skip
    (task,) = job["tasks"]
    assert task["python_wheel_task"] == {
        "package_name": "lakehouse", "entry_point": "lakehouse-scoring",
        "parameters": ["--env", "prod", "--model", "customer_churn",
                       "--root", "${workspace.file_path}", "--schema-prefix=${var.schema_prefix}"],
    }  # fmt: skip
    assert "mlflow-skinny>=3.17" in job["environments"][0]["spec"]["dependencies"]
    assert not any("scoring" in name for name in build_target(root, "hr", "prod").jobs)


def test_each_domains_job_replaces_only_its_own_rows_of_the_control_table(tmp_path, spark):
    from lakehouse.engine import sql
    from lakehouse.scoring.local_run import run_scoring

    def domains(root, **files: str):
        for name, text in files.items():
            models = root / name / "models"
            models.mkdir(parents=True)
            (root / name / "pipelines").mkdir()
            (models / "churn.yml").write_text(text.replace("shop", name) + "enabled: false\n")
        return root

    both = domains(tmp_path / "all", shop=VALID, shoe=VALID)
    assert run_scoring(spark, tmp_path, domains_root=both) == []  # disabled: nothing scored
    shop_only = domains(tmp_path / "shop", shop=VALID.replace("[orders, segment]", "[orders]"))
    run_scoring(spark, tmp_path, domains_root=shop_only)  # what a domain's target syncs
    rows = sql(tmp_path, "SELECT domain, features FROM dev_platform.scoring.control ORDER BY 1")
    assert [(r["domain"], r["features"]) for r in rows.collect()] == [
        ("shoe", ["orders", "segment"]), ("shop", ["orders"]),
    ]  # fmt: skip
