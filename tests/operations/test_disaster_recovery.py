"""Disaster recovery: a backup restores to the same tables, the drill destroys and restores a
storage folder, reruns its pipeline and finds every table as before, and a restore that would
ingest files twice or overwrite data is refused."""

from __future__ import annotations

import json
import shutil

import pytest
from typer.testing import CliRunner

from lakehouse.cli import app
from lakehouse.operations.disaster_recovery import (
    MANIFEST,
    RecoveryError,
    backup,
    checksums,
    drill,
    restore,
)
from tests.conftest import ORDERS
from tests.engine.test_datasets import CHECKED_ORDERS_PIPELINE


@pytest.fixture
def ran(workspace):
    workspace.source(CHECKED_ORDERS_PIPELINE)
    workspace.land("a.json", ORDERS)
    workspace.run()
    return workspace


def test_a_restored_backup_holds_every_table_as_it_was(ran, spark, tmp_path):
    before = checksums(spark, ran.storage)
    manifest = backup(ran.storage, tmp_path / "backup", spark)
    assert set(manifest.tables) >= set(before)
    assert json.loads((tmp_path / "backup" / MANIFEST).read_text())["source"] == str(ran.storage.resolve())  # fmt: skip
    shutil.rmtree(ran.storage)
    restore(tmp_path / "backup", ran.storage, spark)
    assert checksums(spark, ran.storage) == before
    ran.run()  # usable again: the next update finds nothing new to ingest
    assert checksums(spark, ran.storage) == before


def test_the_drill_measures_rpo_and_rto_and_finds_every_table_as_before(ran, spark, tmp_path):
    measured = drill(ran.storage, tmp_path / "drill", spark, lambda: ran.run())
    assert measured.differing == [] and measured.tables == 1  # the pipeline's one table
    assert measured.rpo.total_seconds() >= 0 and 0 < measured.rto.total_seconds() < 300


def test_a_restore_that_would_overwrite_data_or_ingest_files_twice_is_refused(ran, spark, tmp_path):
    with pytest.raises(RecoveryError, match="is no backup"):
        restore(tmp_path, tmp_path / "elsewhere", spark)
    backup(ran.storage, tmp_path / "backup", spark)
    with pytest.raises(RecoveryError, match="not empty"):
        restore(tmp_path / "backup", ran.storage, spark)
    with pytest.raises(RecoveryError, match="restore it there"):
        restore(tmp_path / "backup", tmp_path / "elsewhere", spark)
    with pytest.raises(RecoveryError, match="not empty: name a new folder"):
        backup(ran.storage, tmp_path / "backup", spark)
    result = CliRunner().invoke(app, ["dr", "restore", "--from", str(tmp_path / "nope"), "--storage", str(ran.storage)])  # fmt: skip
    assert result.exit_code == 2 and "no such folder" in result.output
