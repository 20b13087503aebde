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
from lakehouse.platform.pipelines import domain_pipelines

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
            "a local run knows only ${var.schema_prefix}, ${var.env}",
        ),
        (
            "targets:\n  sales-dev:\n    resources:\n      pipelines:\n        g:\n"
            "          catalog: c\n          schema: s\n          libraries:\n"
            "            - notebook: {path: x}\n",
            "gold.pipeline.yml:9: targets.sales-dev.resources.pipelines.g.libraries[0]: "
            "expected a 'glob' or 'file' library",
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


def test_the_deployed_and_the_local_ingestion_pipeline_differ_only_in_their_paths():
    local = ingestion_pipeline(SALES, "crm", "prod", contracts="C", landing="L")
    deployed = deployed_ingestion_pipeline(SALES, "crm", "prod").as_dict()
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
