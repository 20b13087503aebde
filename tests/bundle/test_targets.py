"""Targets generated from the registry: one per domain and environment, with the deploy
rules of their environment; databricks.yml is kept in sync."""

from __future__ import annotations

import yaml
from typer.testing import CliRunner

from lakehouse.bundle.registry import RegistryError, load_domain_spec, load_registry
from lakehouse.bundle.targets import synced_bundle
from lakehouse.cli import app
from tests.bundle.conftest import REPO, edit


def test_databricks_yml_is_in_sync_with_the_registry():
    assert (REPO / "databricks.yml").read_text() == synced_bundle(REPO), (
        "databricks.yml is out of date: run `uv run lakehouse bundle sync-targets`"
    )


def test_every_domain_and_the_platform_get_a_target_per_environment():
    targets = yaml.safe_load((REPO / "databricks.yml").read_text())["targets"]
    platform, domains = load_registry(REPO)
    names = [spec.name for spec in [platform, *domains]]
    assert names == ["platform", "finance", "hr", "sales"]
    assert sorted(targets) == sorted(f"{n}-{e}" for n in names for e in ("dev", "test", "prod"))


def test_dev_deploys_in_development_mode_and_test_and_prod_as_a_service_principal():
    targets = yaml.safe_load((REPO / "databricks.yml").read_text())["targets"]
    sales = load_domain_spec(REPO / "domains/sales/domain.yml")
    assert targets["sales-dev"]["mode"] == "development"
    assert "run_as" not in targets["sales-dev"]
    prod = targets["sales-prod"]
    assert prod["mode"] == "production"
    assert prod["run_as"] == {"service_principal_name": sales.service_principals.prod}
    assert prod["workspace"] == {
        "host": sales.workspaces.prod,
        "root_path": "/Workspace/Shared/.bundle/lakehouse/sales/prod",
    }
    assert prod["presets"]["tags"] == {
        "domain": "sales", "env": "prod", "cost_centre": sales.cost_centre, "data_owner": sales.owner,
    }  # fmt: skip
    assert prod["variables"] == {"domain": "sales", "env": "prod"}


def test_a_managed_domain_is_changed_by_the_platform_team_and_run_by_its_engineers():
    targets = yaml.safe_load((REPO / "databricks.yml").read_text())["targets"]
    levels = {p["group_name"]: p["level"] for p in targets["hr-test"]["permissions"]}
    assert levels == {
        "hr-data-admins": "CAN_MANAGE",
        "hr-data-engineers": "CAN_RUN",
        "hr-data-readers": "CAN_VIEW",
        "platform-engineers": "CAN_MANAGE",
    }
    levels = {p["group_name"]: p["level"] for p in targets["sales-test"]["permissions"]}
    assert levels["sales-data-engineers"] == "CAN_MANAGE" and "platform-engineers" not in levels


def test_sync_targets_rewrites_databricks_yml_after_a_registry_change(bundle):
    edit(bundle / "domains/hr/domain.yml", "cost_centre: CC-120", "cost_centre: CC-121")
    runner = CliRunner()
    stale = runner.invoke(app, ["bundle", "sync-targets", "--root", str(bundle), "--check"])
    assert stale.exit_code == 1 and "out of date" in stale.output
    synced = runner.invoke(app, ["bundle", "sync-targets", "--root", str(bundle)])
    assert synced.exit_code == 0, synced.output
    targets = yaml.safe_load((bundle / "databricks.yml").read_text())["targets"]
    assert targets["hr-prod"]["presets"]["tags"]["cost_centre"] == "CC-121"
    assert (bundle / "databricks.yml").read_text().startswith("# The lakehouse bundle")
    again = runner.invoke(app, ["bundle", "sync-targets", "--root", str(bundle), "--check"])
    assert again.exit_code == 0


def test_a_broken_registry_entry_names_the_file_line_and_field(bundle):
    file = bundle / "domains/hr/domain.yml"
    edit(file, "readers: hr-data-readers", "reader: hr-data-readers")
    edit(file, "self_service: managed", "self_service: sometimes")
    edit(file, "test: 00000000-0000-4000-8000-000000000122", "test: hr-robot")
    try:
        load_registry(bundle)
    except RegistryError as error:
        messages = [str(p) for p in error.problems]
    else:
        raise AssertionError("the broken registry loaded")
    assert any(m.startswith(f"{file}:8: self_service: Input should be 'managed'") for m in messages)
    assert any(f"{file}:12: groups.reader: unknown field" in m for m in messages)
    assert any("groups.readers: Field required" in m for m in messages)
    assert any("service_principals.test: expected a service principal's application id" in m for m in messages)  # fmt: skip


def test_a_domain_named_otherwise_than_its_folder_is_refused(bundle):
    edit(bundle / "domains/hr/domain.yml", "name: hr", "name: people")
    try:
        load_registry(bundle)
    except RegistryError as error:
        assert "domain.yml:4: name: expected 'hr'" in str(error)
    else:
        raise AssertionError("a misnamed domain loaded")
