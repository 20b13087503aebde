"""Targets generated from the registry: one per domain and environment, with the deploy
rules of their environment; databricks.yml is kept in sync."""

from __future__ import annotations

import yaml
from typer.testing import CliRunner

from lakehouse.bundle.targets import BUNDLE_FILE, TARGETS_FILE, stale_files
from lakehouse.cli import app
from lakehouse.platform.registry import RegistryError, load_domain_spec, load_registry
from tests.bundle.conftest import REPO, edit


def test_the_generated_targets_and_codeowners_are_in_sync_with_the_registry():
    assert stale_files(REPO) == [], "out of date: run `uv run lakehouse bundle sync-targets`"


def test_codeowners_give_each_domain_folder_to_its_team_and_the_rest_to_the_platform():
    lines = [
        line.split()
        for line in (REPO / ".github/CODEOWNERS").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert lines[0] == ["*", "@example-org/platform-engineers"]
    owners = {path: rest for path, *rest in lines[1:]}
    assert owners["/domains/sales/"] == ["@example-org/sales-data-engineers"]
    # hr is managed: the platform team builds it, so either team may approve
    assert owners["/domains/hr/"] == ["@example-org/hr-data-engineers", "@example-org/platform-engineers"]  # fmt: skip
    # a registry entry names principals and workspaces: the platform team's, and last to win
    assert lines[-1] == ["/domains/*/domain.yml", "@example-org/platform-engineers"]


def test_every_domain_and_the_platform_get_a_target_per_environment():
    targets = yaml.safe_load((REPO / TARGETS_FILE).read_text())["targets"]
    platform, domains = load_registry(REPO)
    names = [spec.name for spec in [platform, *domains]]
    assert names == ["platform", "finance", "hr", "sales"]
    assert sorted(targets) == sorted(f"{n}-{e}" for n in names for e in ("dev", "test", "prod"))


def test_a_domains_dev_is_a_personal_copy_and_every_other_target_a_shared_one():
    targets = yaml.safe_load((REPO / TARGETS_FILE).read_text())["targets"]
    sales = load_domain_spec(REPO / "domains/sales/domain.yml")
    dev = targets["sales-dev"]
    assert dev["mode"] == "development" and "run_as" not in dev
    assert dev["variables"]["schema_prefix"] == "dev_${workspace.current_user.short_name}_"
    assert {"level": "CAN_MANAGE", "user_name": "${workspace.current_user.userName}"} in dev["permissions"]  # fmt: skip
    prod = targets["sales-prod"]
    principal = sales.service_principals.prod
    assert prod["mode"] == "production"
    assert prod["run_as"] == {"service_principal_name": principal}
    assert prod["workspace"] == {  # the principal's own folder, not one all users may write
        "host": sales.workspaces.prod,
        "root_path": f"/Workspace/Users/{principal}/.bundle/${{bundle.name}}/${{bundle.target}}",
    }
    assert {"level": "CAN_MANAGE", "service_principal_name": principal} in prod["permissions"]
    assert prod["presets"]["tags"] == {
        "domain": "sales", "env": "prod", "cost_centre": sales.cost_centre, "data_owner": sales.owner,
    }  # fmt: skip
    assert prod["variables"] == {"domain": "sales", "env": "prod"}
    assert prod["sync"] == {"paths": ["../src", "../domains/sales"]}  # never another domain's files
    # The platform's foundation is shared in dev too.
    assert targets["platform-dev"]["mode"] == "production"
    # the platform reads every contract and sandpit: its governance jobs mask the columns the
    # contracts classify and grant what the sandpits' data owners approved
    assert targets["platform-dev"]["sync"] == {"paths": ["../src", "../domains", "../sandpits"]}
    assert [name for name, t in targets.items() if t.get("default")] == ["finance-dev"]


def test_a_managed_domain_is_changed_by_the_platform_team_and_run_by_its_engineers():
    targets = yaml.safe_load((REPO / TARGETS_FILE).read_text())["targets"]
    levels = {
        p["group_name"]: p["level"] for p in targets["hr-test"]["permissions"] if "group_name" in p
    }
    assert levels == {
        "hr-data-admins": "CAN_MANAGE",
        "hr-data-engineers": "CAN_RUN",
        "hr-data-readers": "CAN_VIEW",
        "platform-engineers": "CAN_MANAGE",
    }
    levels = {
        p["group_name"]: p["level"]
        for p in targets["sales-test"]["permissions"]
        if "group_name" in p
    }
    assert levels["sales-data-engineers"] == "CAN_MANAGE" and "platform-engineers" not in levels


def test_sync_targets_rewrites_the_targets_file_after_a_registry_change_and_leaves_databricks_yml(
    bundle,
):
    edit(bundle / "domains/hr/domain.yml", "cost_centre: CC-120", "cost_centre: CC-121")
    runner = CliRunner()
    stale = runner.invoke(app, ["bundle", "sync-targets", "--root", str(bundle), "--check"])
    assert stale.exit_code == 1 and "resources/targets.yml: out of date" in stale.output
    hand_written = (bundle / BUNDLE_FILE).read_text()
    synced = runner.invoke(app, ["bundle", "sync-targets", "--root", str(bundle)])
    assert synced.exit_code == 0, synced.output
    targets = yaml.safe_load((bundle / TARGETS_FILE).read_text())["targets"]
    assert targets["hr-prod"]["presets"]["tags"]["cost_centre"] == "CC-121"
    assert (bundle / BUNDLE_FILE).read_text() == hand_written
    assert "resources/targets.yml" in yaml.safe_load(hand_written)["include"]
    again = runner.invoke(app, ["bundle", "sync-targets", "--root", str(bundle), "--check"])
    assert again.exit_code == 0


def test_a_broken_registry_entry_names_the_file_line_and_field(bundle):
    file = bundle / "domains/hr/domain.yml"
    edit(file, "readers: hr-data-readers", "reader: hr-data-readers")
    edit(file, "self_service: managed", "self_service: sometimes")
    edit(file, "test: 00000000-0000-4000-8000-000000000122", "test: hr-robot")
    edit(file, "monthly_cost_limit: 1500", "monthly_cost_limit: -5")
    try:
        load_registry(bundle)
    except RegistryError as error:
        messages = [str(p) for p in error.problems]
    else:
        raise AssertionError("the broken registry loaded")
    assert any(m.startswith(f"{file}:8: self_service: Input should be 'managed'") for m in messages)
    assert any(f"{file}:14: groups.reader: unknown field" in m for m in messages)
    assert any("groups.readers: Field required" in m for m in messages)
    assert any("service_principals.test: expected a service principal's application id" in m for m in messages)  # fmt: skip
    assert any("monthly_cost_limit: Input should be greater than 0" in m for m in messages)


def test_a_domain_named_otherwise_than_its_folder_is_refused(bundle):
    edit(bundle / "domains/hr/domain.yml", "name: hr", "name: people")
    try:
        load_registry(bundle)
    except RegistryError as error:
        assert "domain.yml:4: name: expected 'hr'" in str(error)
    else:
        raise AssertionError("a misnamed domain loaded")


def test_a_domain_naming_another_domains_principal_is_refused(bundle):
    platform = load_domain_spec(bundle / "domains/platform.yml")
    file = bundle / "domains/sales/domain.yml"
    edit(file, "prod: 00000000-0000-4000-8000-000000000113", f"prod: {platform.service_principals.prod}")  # fmt: skip
    try:
        load_registry(bundle)
    except RegistryError as error:
        assert f"{file}:20: service_principals.prod: {platform.service_principals.prod} is platform's already" in str(error)  # fmt: skip
    else:
        raise AssertionError("a borrowed principal loaded")


def test_the_platform_needs_a_dev_principal_and_code_owners_must_be_a_github_team(bundle):
    edit(bundle / "domains/platform.yml", "  dev: 00000000-0000-4000-8000-000000000901\n", "")
    edit(bundle / "domains/hr/domain.yml", 'code_owners: "@example-org/hr-data-engineers"', "code_owners: hr team")  # fmt: skip
    try:
        load_registry(bundle)
    except RegistryError as error:
        assert "domain.yml:10: code_owners: expected a GitHub team such as @example-org/" in str(error)  # fmt: skip
    else:
        raise AssertionError("a bad code owner loaded")
    edit(bundle / "domains/hr/domain.yml", "code_owners: hr team", 'code_owners: "@example-org/hr"')
    try:
        load_registry(bundle)
    except RegistryError as error:
        assert "domains/platform.yml:" in str(error) and "service_principals.dev: required for the platform" in str(error)  # fmt: skip
    else:
        raise AssertionError("a platform without a dev principal loaded")


def test_a_new_model_file_is_synced_into_its_domains_targets_and_a_broken_one_is_named(bundle):
    models = bundle / "domains/sales/models"
    text = (models / "customer_churn.yml").read_text()
    (models / "basket_size.yml").write_text(text.replace("customer_churn", "basket_size"))
    runner = CliRunner()
    synced = runner.invoke(app, ["bundle", "sync-targets", "--root", str(bundle)])
    assert synced.exit_code == 0 and "resources/targets.yml: rewritten" in synced.output
    targets = yaml.safe_load((bundle / TARGETS_FILE).read_text())["targets"]
    assert targets["sales-prod"]["resources"]["registered_models"]["sales_basket_size"]["name"] == "basket_size"  # fmt: skip
    assert "registered_models" not in targets["hr-prod"].get("resources", {})  # no model file

    edit(models / "basket_size.yml", "${env}_gold.sales.basket_size_predictions", "${env}_gold.hr.basket_size_predictions")  # fmt: skip
    broken = runner.invoke(app, ["bundle", "sync-targets", "--root", str(bundle)])
    assert broken.exit_code == 1
    assert "basket_size.yml:10: output_table: expected ${env}_gold.sales.<name>" in broken.output
    assert "bug" not in broken.output
