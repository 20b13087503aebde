"""dbutils and display in pipeline files: widgets are the pipeline's configuration, secrets come
from the environment or a local file and are never reported, fs works on local folders, and
anything needing a workspace is an error that names the call."""

from __future__ import annotations

from pathlib import Path

import pytest

from lakehouse.engine.errors import ConfigurationError, GraphError, PipelineError
from lakehouse.engine.notebook import notebook_globals
from lakehouse.engine.notebook.dbutils import LocalDbutils
from lakehouse.engine.observability.error_report import error_summary


def test_widgets_are_the_pipeline_configuration_then_their_defaults():
    dbutils = LocalDbutils({"env": "dev"})
    dbutils.widgets.text("env", "prod")
    dbutils.widgets.dropdown("region", "eu", ["eu", "us"])
    assert (dbutils.widgets.get("env"), dbutils.widgets.get("region")) == ("dev", "eu")
    assert dbutils.widgets.getAll() == {"env": "dev", "region": "eu"}
    with pytest.raises(ConfigurationError, match=r"--conf missing=\.\.\."):
        dbutils.widgets.get("missing")


def test_secrets_come_from_the_environment_then_the_file_and_are_redacted(tmp_path, monkeypatch):
    secrets_file = tmp_path / "secrets.toml"
    secrets_file.write_text('[sales-jdbc]\nuser = "svc-7f3a"\npassword = "from-the-file"\n')
    monkeypatch.setenv("LAKEHOUSE_SECRETS_FILE", str(secrets_file))
    monkeypatch.setenv("LAKEHOUSE_SECRET_SALES_JDBC_PASSWORD", "pa55-from-env")
    secrets = LocalDbutils({}).secrets
    assert secrets.get("sales-jdbc", "password") == "pa55-from-env"  # the environment first
    assert secrets.get("sales-jdbc", "user") == "svc-7f3a"
    assert [m.key for m in secrets.list("sales-jdbc")] == ["password", "user"]
    assert [s.name for s in secrets.listScopes()] == ["sales-jdbc"]
    error = RuntimeError("login failed for svc-7f3a with pa55-from-env")
    assert error_summary(error) == "login failed for [REDACTED] with [REDACTED]"
    with pytest.raises(ConfigurationError) as missing:
        secrets.get("sales-jdbc", "token")
    assert "LAKEHOUSE_SECRET_SALES_JDBC_TOKEN" in str(missing.value)
    assert str(secrets_file) in str(missing.value)


def test_fs_works_on_local_folders_and_refuses_remote_ones(tmp_path):
    fs = LocalDbutils({}).fs
    assert fs.put(f"{tmp_path}/in/a.json", '{"id": 1}')
    assert fs.head(f"file:{tmp_path}/in/a.json") == '{"id": 1}'
    assert fs.cp(f"{tmp_path}/in", f"{tmp_path}/copy", recurse=True)
    assert fs.mv(f"{tmp_path}/copy/a.json", f"{tmp_path}/moved/b.json")
    assert [(f.name, f.size) for f in fs.ls(str(tmp_path))] == [
        ("copy/", 0), ("in/", 0), ("moved/", 0),
    ]  # fmt: skip
    assert fs.rm(f"{tmp_path}/in", recurse=True) and not (tmp_path / "in").exists()
    with pytest.raises(ConfigurationError, match="needs recurse=True"):
        fs.rm(f"{tmp_path}/moved")
    with pytest.raises(ConfigurationError, match="'dbfs:/mnt/raw' is not a local path"):
        fs.ls("dbfs:/mnt/raw")


def test_a_call_that_needs_a_workspace_is_named():
    dbutils = notebook_globals({})["dbutils"]
    with pytest.raises(GraphError, match=r"dbutils\.notebook\.run\(\) needs a Databricks"):
        dbutils.notebook.run("other", 60)
    with pytest.raises(GraphError, match=r"dbutils\.fs\.mount\(\) needs a Databricks"):
        dbutils.fs.mount("s3://bucket", "/mnt/b")


def test_pipeline_files_use_dbutils_and_display(workspace, monkeypatch):
    monkeypatch.setenv("LAKEHOUSE_SECRET_SHOP_API_TOKEN", "tok-123")
    workspace.source(
        """
        import dlt

        region = dbutils.widgets.get("region")
        token = dbutils.secrets.get("shop", "api_token")

        @dlt.table
        def settings():
            frame = spark.createDataFrame([(region, len(token))], "region STRING, length INT")
            display(frame)
            return frame

        @dlt.table
        def broken():
            return spark.range(1).selectExpr(f"CAST(raise_error('bad token {token}') AS STRING) x")
        """
    )
    with pytest.raises(PipelineError, match=r"flow 'main\.sales\.broken'") as failed:
        workspace.run(configuration={"region": "eu"})
    assert workspace.rows("settings", "region") == [{"region": "eu", "length": 7}]
    log_file = Path(str(failed.value).rsplit("Full error: ", 1)[1])
    assert "bad token [REDACTED]" in log_file.read_text()
    assert "tok-123" not in log_file.read_text() + str(workspace.events())
