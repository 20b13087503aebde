"""One description per pipeline, read by both runtimes: what a local run takes from a domain's
bundle YAML, and the ingestion pipeline the bundle deploys and the demo runs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from lakehouse.bundle.resources import ingestion_pipeline as deployed_ingestion_pipeline
from lakehouse.contracts.problems import ConfigFileError
from lakehouse.ingestion.pipeline_spec import SOURCE_FILE, ingestion_pipeline
from lakehouse.platform.domains import Domain
from lakehouse.platform.pipelines import domain_pipelines, settings_file_pipeline

REPO = Path(__file__).resolve().parents[2]
SALES = Domain(REPO / "domains" / "sales")


def test_a_local_run_reads_the_domains_pipeline_from_its_bundle_yaml_with_the_targets_values():
    (dev,) = domain_pipelines(SALES, "dev")
    (prod,) = domain_pipelines(SALES, "prod")
    assert (dev.name, dev.target, prod.target) == (
        "sales_gold",
        "dev_gold.sales",
        "prod_gold.sales",
    )
    assert dev.sources == ((REPO / "domains/sales/pipelines").resolve(),)
    # ${var.schema_prefix} is a developer's own schemas on Databricks; locally there is no prefix
    assert dev.configuration == {"lakehouse.env": "dev", "lakehouse.schemaPrefix": ""}


def _domain_with(tmp_path: Path, text: str) -> Domain:
    folder = tmp_path / "sales"
    shutil.copytree(SALES.folder / "contracts", folder / "contracts")
    (folder / "resources").mkdir()
    (folder / "resources" / "gold.pipeline.yml").write_text(text)
    return Domain(folder)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "targets:\n  sales-dev:\n    resources:\n      pipelines:\n        g:\n"
            "          catalog: ${var.env}_gold\n          schema: ${var.region}\n",
            "gold.pipeline.yml:5: targets.sales-dev.resources.pipelines.g: ${var.region}: "
            "a local run knows only ${var.schema_prefix}, ${var.env}, ${bundle.target} "
            "(with --settings, give ${var.*} as --var NAME=VALUE and --target)",
        ),
        (
            "targets:\n  sales-dev:\n    resources:\n      pipelines:\n        g:\n"
            "          catalog: c\n          schema: s\n          libraries:\n"
            "            - jar: x.jar\n",
            "gold.pipeline.yml:9: targets.sales-dev.resources.pipelines.g.libraries[0]: "
            "expected a 'glob', 'file' or 'notebook' library",
        ),
        (
            "targets:\n  sales-dev:\n    resources:\n      pipelines:\n        g:\n"
            "          name: g\n",
            "gold.pipeline.yml:5: targets.sales-dev.resources.pipelines.g: "
            "expected a pipeline with a catalog and a schema",
        ),
    ],
)
def test_a_pipeline_a_local_run_cannot_run_is_named_by_file_line_and_field(tmp_path, text, message):
    with pytest.raises(ConfigFileError) as error:
        domain_pipelines(_domain_with(tmp_path, text), "dev")
    assert str(error.value).endswith(message)


def test_a_settings_file_is_read_as_databricks_writes_it(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "bronze.py").write_text("")
    api_json = tmp_path / "pipeline.json"  # what GET /api/2.0/pipelines/{id} returns
    api_json.write_text(
        '{"pipeline_id": "1b2c", "spec": {"name": "orders", "catalog": "dev", "target": "sales",'
        ' "libraries": [{"notebook": {"path": "src/bronze"}}], "channel": "PREVIEW",'
        ' "configuration": {"source": "/landing"},'
        ' "event_log": {"catalog": "ops", "schema": "logs", "name": "orders_events"}}}'
    )
    spec = settings_file_pipeline(api_json)
    assert (spec.name, spec.target, spec.event_log) == (
        "orders",
        "dev.sales",
        "ops.logs.orders_events",
    )
    assert spec.sources == ((tmp_path / "src" / "bronze.py").resolve(),)
    assert spec.configuration == {"source": "/landing"}
    # A resource as bundles write them: ${bundle.target} and ${workspace.file_path} (the bundle's
    # root, where databricks.yml is) are substituted as the bundle would
    (tmp_path / "databricks.yml").write_text("bundle:\n  name: shop\n")
    (tmp_path / "generated" / "dev").mkdir(parents=True)
    bundled = tmp_path / "resources" / "orders.pipeline.yml"
    bundled.parent.mkdir()
    bundled.write_text(
        "resources:\n  pipelines:\n    orders:\n      name: ${bundle.name}_orders\n"
        "      catalog: main\n      schema: ${bundle.target}_sales\n      libraries:\n"
        "        - glob:\n            include: ${workspace.file_path}/generated/${bundle.target}/**\n"
    )
    orders = settings_file_pipeline(bundled, "dev")
    assert (orders.name, orders.target) == ("shop_orders", "main.dev_sales")
    assert orders.sources == ((tmp_path / "generated" / "dev").resolve(),)
    hr = settings_file_pipeline(
        REPO / "domains/hr/resources/hr_gold.pipeline.yml", "hr-prod", {"env": "prod"}
    )
    assert (hr.name, hr.target, hr.event_log) == (
        "hr_gold",
        "prod_gold.hr",
        "prod_gold.hr.event_log",
    )
    assert hr.sources == ((REPO / "domains/hr/pipelines").resolve(),)


@pytest.mark.parametrize(
    ("text", "target", "message"),
    [
        ("targets:\n  a:\n    resources:\n      pipelines:\n        p: {catalog: c, schema: s}\n"
         "  b:\n    resources:\n      pipelines:\n        p: {catalog: c, schema: s}\n", None,
         "declares several pipelines (targets.a.resources.pipelines.p, "
         "targets.b.resources.pipelines.p): pick with --target"),
        ("targets:\n  a:\n    resources:\n      pipelines:\n        p: {catalog: c, schema: s}\n"
         "  b: {}\n", "prod", "targets: no target 'prod' (the file has a, b)"),
        ("resources:\n  pipelines:\n    p: {catalog: c, schema: '${bundle.target}'}\n", None,
         "${bundle.target}: a local run knows only ${var.schema_prefix} "
         "(with --settings, give ${var.*} as --var NAME=VALUE and --target)"),
        ("jobs: {}\n", None, "expected resources.pipelines, or a pipeline's settings"),
    ],
)  # fmt: skip
def test_a_settings_file_that_names_no_one_pipeline_says_why(tmp_path, text, target, message):
    file = tmp_path / "p.yml"
    file.write_text(text)
    with pytest.raises(ConfigFileError) as error:
        settings_file_pipeline(file, target)
    assert str(error.value).endswith(message)


def test_the_deployed_and_the_local_ingestion_pipeline_differ_only_in_their_paths():
    local = ingestion_pipeline(SALES, "crm", "prod", contracts="C", landing="L")
    deployed = deployed_ingestion_pipeline(SALES, "crm", "prod", "owner@example.com").as_dict()
    assert (deployed["name"], deployed["catalog"], deployed["continuous"]) == (
        local.name,
        local.catalog,
        local.continuous,
    )
    assert deployed["libraries"] == [
        {"file": {"path": f"src/{SOURCE_FILE.relative_to(REPO / 'src').as_posix()}"}}
    ]
    differing = {
        key for key, value in deployed["configuration"].items() if local.configuration[key] != value
    }
    assert differing == {"lakehouse.contracts", "lakehouse.landing", "lakehouse.schemaPrefix"}
