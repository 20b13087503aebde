"""Scores the control table's rows: each row's model over its input table, into its output
table, one row at a time so that one bad row never stops the others.

An output row holds the input's keys, ``prediction``, ``model_name``, ``model_version``,
``scored_at`` and ``scoring_run_id``. Each write records the input version and the model
version it scored in its commit (``userMetadata``), so a rerun with neither changed writes
nothing, an ``incremental`` row scores only what changed since (``changed_rows.py``), and a new
model version behind the alias scores every row again.

Rows with a NULL feature are kept with a NULL prediction and counted (``null_features``):
MLflow's schema enforcement refuses missing values in integer columns, and a model's answer
for a missing value is not ours to invent.
"""

from __future__ import annotations

import functools
import json
import operator
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lakehouse.engine.observability.error_report import error_summary
from lakehouse.engine.observability.masking import CLASSIFICATION, Masking
from lakehouse.platform.domains import DOMAINS, find_domains
from lakehouse.scoring.changed_rows import changed_rows
from lakehouse.scoring.control_table import (
    CONTROL_TABLE,
    ControlRow,
    Mode,
    control_table_frame,
    selected_rows,
)
from lakehouse.scoring.model_store import ModelNotFound, ModelVersion, resolve
from lakehouse.sql_quoting import quote_string

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, Observation, SparkSession
    from pyspark.sql.types import DataType, StructType

    from lakehouse.engine.storage.delta_table import LocalDeltaTable

_STATE_KEY = "lakehouse.scoring"
_USER_METADATA = "spark.databricks.delta.commitInfo.userMetadata"
# Spark types a model's signature type takes as they are (MLflow's safe conversions).
_ACCEPTS = {
    "boolean": ("boolean",),
    "integer": ("tinyint", "smallint", "int"),
    "long": ("tinyint", "smallint", "int", "bigint"),
    "float": ("float",),
    "double": ("float", "double"),
    "string": ("string",),
    "binary": ("binary",),
    "datetime": ("date", "timestamp", "timestamp_ntz"),
}


_COMMENTS = {
    "prediction": "The model's output for this row; NULL when a feature is NULL.",
    "model_name": "The registered model that scored this row.",
    "model_version": "The version of the model that scored this row.",
    "scored_at": "When this row was scored.",
    "scoring_run_id": "The scoring run that wrote this row.",
}


class ScoringFailed(Exception):
    """One control row could not be scored; the message names it."""


@dataclass
class RowResult:
    """What scoring one control row did."""

    row: ControlRow
    status: str = "scored"  # scored | up to date | failed
    model_version: str | None = None
    full: bool = False  # every input row scored (first run, full mode or a new model version)
    scored_rows: int = 0
    null_features: int = 0
    deleted_rows: int = 0
    error: str | None = None
    seconds: float = 0.0


def score_rows(
    spark: SparkSession,
    rows: list[ControlRow],
    table_identifier: Callable[[str], str],
    *,
    run_id: str | None = None,
) -> list[RowResult]:
    """Score each enabled row; a row that fails is reported and the others still run.
    ``table_identifier`` turns a table name into what Spark reads and writes (a
    ``delta.`path``` locally, the name itself on Databricks).

    Example:
        >>> results = score_rows(spark, control_rows(find_domains(), "dev"), identifier)  # doctest: +SKIP
        >>> [(r.row.name, r.status, r.scored_rows) for r in results]  # doctest: +SKIP
        [('customer_churn', 'scored', 120)]
    """
    run_id = run_id or str(uuid.uuid4())
    results = []
    for row in rows:
        if not row.enabled:
            continue
        started = time.perf_counter()
        result = RowResult(row)
        try:
            _score(spark, row, table_identifier, run_id, result)
        except (ScoringFailed, ModelNotFound) as error:
            result.status, result.error = "failed", f"{row.domain}/{row.name}: {error}"
        except Exception as error:  # Spark's or the model's: this row fails, the others run
            # Its message may quote the input's values: masked as the input is classified.
            masking = _masking(spark, table_identifier(row.input_table))
            result.status = "failed"
            result.error = f"{row.domain}/{row.name}: {error_summary(error, masking)}"
        result.seconds = time.perf_counter() - started
        results.append(result)
    return results


def score_control_table(
    spark: SparkSession,
    env: str,
    table_identifier: Callable[[str], str],
    *,
    model: str | None = None,
    domains_root: Path = DOMAINS,
    schema_prefix: str = "",
) -> list[RowResult]:
    """Refresh the rows of ``<env>_platform.scoring.control`` of the domains under
    ``domains_root`` from their model files, then score each enabled row (only ``model``'s, by
    file name or registered name, when given): the scoring job, run locally (``local_run.py``)
    or on Databricks (``job.py``), there in a developer's own schemas with ``schema_prefix``.

    Example:
        >>> [r.status for r in score_control_table(spark, "prod", lambda name: name)]  # doctest: +SKIP
        ['scored']
    """
    every_row, rows = selected_rows(env, model, domains_root, schema_prefix)
    control_table = table_identifier(CONTROL_TABLE.format(env=env, prefix=schema_prefix))
    domains = sorted({d.name for d in find_domains(domains_root)})
    _replace_domains(control_table_frame(spark, every_row), control_table, domains)
    return score_rows(spark, rows, table_identifier)


def _replace_domains(rows: DataFrame, target: str, domains: list[str]) -> None:
    """Replace the rows of ``domains`` in the control table; other domains' rows stay (each
    domain's job sees only its own model files)."""
    listed = ", ".join(quote_string(d) for d in domains) or "NULL"
    where = f"domain IN ({listed})" if _exists(rows.sparkSession, target) else None
    _overwrite(rows, target, replace_where=where)


def _score(
    spark: SparkSession,
    row: ControlRow,
    table_identifier: Callable[[str], str],
    run_id: str,
    result: RowResult,
) -> None:
    from delta.tables import DeltaTable
    from pyspark.sql import functions as F

    source, target = table_identifier(row.input_table), table_identifier(row.output_table)
    if not _exists(spark, source):
        raise ScoringFailed(f"input table {row.input_table} does not exist")
    model = resolve(row.model, row.alias, row.version)
    result.model_version = model.version
    # One version of the input throughout, whatever commits land meanwhile.
    input_version = _version(spark, source)
    _check_columns(row, _schema(spark, source, input_version), model)
    state = _last_state(spark, target) if _exists(spark, target) else None
    if state == {"input_version": input_version, "model_version": model.version}:
        result.status = "up to date"
        return
    metadata = json.dumps(
        {_STATE_KEY: {"input_version": input_version, "model_version": model.version,
                      "run_id": run_id}}
    )  # fmt: skip
    if row.mode is Mode.FULL or state is None or state["model_version"] != model.version:
        result.full = True
        frame = spark.sql(f"SELECT * FROM {source} VERSION AS OF {input_version}")
        predictions, counts = _predictions(frame, row, model, run_id)
        with _commit_metadata(spark, metadata):
            _overwrite(predictions, target)
        _count_into(result, counts)
        _describe(spark, row, source, target)
        return
    if _score_on_driver(row, model, source, target, state, input_version, run_id, metadata, result):  # fmt: skip
        return
    changes = changed_rows(spark, source, state["input_version"], input_version, row.keys,
                           row.features)  # fmt: skip
    predictions, counts = _predictions(changes.changed, row, model, run_id)
    predictions = predictions.localCheckpoint()  # scored once; a MERGE reads its source twice
    _count_into(result, counts)
    result.deleted_rows = changes.deleted_keys.count()
    update = predictions.withColumn("_delete", F.lit(False)).unionByName(
        changes.deleted_keys.withColumn("_delete", F.lit(True)), allowMissingColumns=True
    )
    on = functools.reduce(
        operator.and_, [F.col(f"t.`{k}`").eqNullSafe(F.col(f"s.`{k}`")) for k in row.keys]
    )
    values = {f"`{c}`": F.col(f"s.`{c}`") for c in predictions.columns}
    with _commit_metadata(spark, metadata):
        (
            DeltaTable.forName(spark, target)
            .alias("t")
            .merge(update.alias("s"), on)
            .whenMatchedDelete("s._delete")
            .whenMatchedUpdate(set=values)
            .whenNotMatchedInsert(condition="NOT s._delete", values=values)
            .execute()
        )


def _score_on_driver(
    row: ControlRow,
    model: ModelVersion,
    source: str,
    target: str,
    state: dict[str, Any],
    input_version: int,
    run_id: str,
    metadata: str,
    result: RowResult,
) -> bool:
    """Score a small change of folder tables on the driver (``small_changes.py``); False when
    it is Spark's to score."""
    source_table, output = _folder(source), _folder(target)
    if source_table is None or output is None or not output.delta_rs_writes():
        return False  # catalog tables: Spark reaches them, delta-rs does not
    # Local only: the wheel deployed to Databricks goes without delta-rs.
    import pyarrow as pa

    from lakehouse.scoring import small_changes

    change = small_changes.read_change(
        source_table, state["input_version"], input_version, row.keys, row.features
    )
    if change is None:
        return False
    schema = output.delta_rs().schema().to_arrow()
    rows, with_null = small_changes.predictions(change.changed, row, model, run_id, pa.schema(schema))  # fmt: skip
    small_changes.merge_predictions(output, rows, change.deleted_keys, row.keys, metadata)
    result.scored_rows, result.null_features = rows.num_rows - with_null, with_null
    result.deleted_rows = change.deleted_keys.num_rows
    return True


def _predictions(
    frame: DataFrame, row: ControlRow, model: ModelVersion, run_id: str
) -> tuple[DataFrame, Observation]:
    """The output rows for ``frame``, in one pass: the model's prediction where every feature
    is set, NULL where one is missing (the model is given a placeholder there, and its answer
    dropped: Spark evaluates the UDF for every row of a batch). The observation counts the
    rows and those with a NULL feature once the rows are written."""
    import mlflow
    from pyspark.sql import Observation
    from pyspark.sql import functions as F

    complete = functools.reduce(operator.and_, [F.col(f"`{f}`").isNotNull() for f in row.features])
    types = {f.name: f.dataType for f in frame.schema.fields}
    inputs = [
        F.coalesce(F.col(f"`{f}`"), _placeholder(types[f].simpleString()).cast(types[f]))
        for f in row.features
    ]
    udf = mlflow.pyfunc.spark_udf(
        frame.sparkSession, model.uri, env_manager="local", result_type="double"
    )
    stamps = {
        "prediction": F.when(F.col("_complete"), udf(*inputs)),
        "model_name": F.lit(model.name),
        "model_version": F.lit(model.version),
        "scored_at": F.current_timestamp(),
        "scoring_run_id": F.lit(run_id),
    }
    counts = Observation(f"scoring_{uuid.uuid4().hex}")
    output = (
        frame.withColumn("_complete", complete)
        .observe(
            counts,
            F.count(F.lit(1)).alias("rows"),
            F.sum((~F.col("_complete")).cast("long")).alias("null_features"),
        )
        .select(
            *[F.col(f"`{k}`") for k in row.keys],
            *[v.alias(k, metadata={"comment": _COMMENTS[k]}) for k, v in stamps.items()],
        )
    )
    return output, counts


def _count_into(result: RowResult, counts: Observation) -> None:
    metrics = counts.get
    result.null_features = int(metrics.get("null_features") or 0)
    result.scored_rows = int(metrics.get("rows") or 0) - result.null_features


def _placeholder(spark_type: str) -> Column:
    """A value of ``spark_type`` for a missing feature, never scored as the row's answer."""
    from pyspark.sql import functions as F

    if spark_type == "boolean":
        return F.lit(False)
    if spark_type in ("string", "binary"):
        return F.lit("")
    if spark_type.startswith(("date", "timestamp")):
        return F.lit("1970-01-01")
    return F.lit(0)


def _overwrite(frame: DataFrame, target: str, replace_where: str | None = None) -> None:
    writer = frame.write.format("delta").mode("overwrite")
    if replace_where is None:
        writer = writer.option("overwriteSchema", "true")
    else:
        writer = writer.option("replaceWhere", replace_where)
    if target.startswith("delta."):
        writer.save(_strip_delta(target))
    else:
        writer.saveAsTable(target)


def _properties(spark: SparkSession, identifier: str) -> dict[str, str]:
    return dict(spark.sql(f"DESCRIBE DETAIL {identifier}").first()["properties"] or {})


def _masking(spark: SparkSession, source: str) -> Masking:
    """How the input is classified; all of it confidential when that cannot be read."""
    try:
        return Masking.of({CLASSIFICATION: "confidential", **_properties(spark, source)})
    except Exception:
        return Masking.of({CLASSIFICATION: "confidential"})


def _describe(spark: SparkSession, row: ControlRow, source: str, target: str) -> None:
    """The output's comment, and the input's classification: predictions about its rows are
    as sensitive as they are (confidential when the input does not say)."""
    wanted = {
        CLASSIFICATION: _properties(spark, source).get(CLASSIFICATION, "confidential"),
        "comment": f"Predictions of {row.model_reference} over {row.input_table}, one row per "
        f"{', '.join(row.keys)}; written by the scoring job ({row.domain}/{row.name}).",
    }
    current = spark.sql(f"DESCRIBE DETAIL {target}").first()
    have = {**(current["properties"] or {}), "comment": current["description"]}
    if any(have.get(k) != v for k, v in wanted.items()):
        assignments = ", ".join(f"{quote_string(k)} = {quote_string(v)}" for k, v in wanted.items())
        spark.sql(f"ALTER TABLE {target} SET TBLPROPERTIES ({assignments})")


def _strip_delta(identifier: str) -> str:
    return identifier.removeprefix("delta.`").removesuffix("`").replace("``", "`")


def _check_columns(row: ControlRow, schema: StructType, model: ModelVersion) -> None:
    types: dict[str, DataType] = {f.name: f.dataType for f in schema.fields}
    missing = [c for c in (*row.keys, *row.features) if c not in types]
    if missing:
        raise ScoringFailed(
            f"{row.input_table} has no column {', '.join(missing)} "
            f"(it has {', '.join(sorted(types))})"
        )
    if not model.input_columns:
        raise ScoringFailed(
            f"model {model.name} version {model.version} has no signature: log it with one "
            "(mlflow.models.infer_signature) so its inputs can be checked"
        )
    wanted = dict(model.input_columns)
    if set(wanted) != set(row.features):
        raise ScoringFailed(
            f"features {sorted(row.features)} are not the inputs of model {model.name} "
            f"version {model.version} ({sorted(wanted)})"
        )
    wrong = [
        f"{c} is {types[c].simpleString()}, the model wants {wanted[c]}"
        for c in row.features
        if types[c].simpleString() not in _ACCEPTS.get(wanted[c], (wanted[c],))
    ]
    if wrong:
        raise ScoringFailed(
            f"{row.input_table} does not match the signature of model {model.name} version "
            f"{model.version}: {'; '.join(wrong)}"
        )


# A local run's tables are folders (``delta.`<path>```): their log is read by hand, in
# milliseconds, where Spark's DESCRIBE HISTORY takes a good part of a second.


def _folder(identifier: str) -> LocalDeltaTable | None:
    if not identifier.startswith("delta."):
        return None
    from lakehouse.engine.storage.delta_table import LocalDeltaTable  # local: needs delta-rs

    return LocalDeltaTable(Path(_strip_delta(identifier)))


def _exists(spark: SparkSession, identifier: str) -> bool:
    folder = _folder(identifier)
    if folder is not None:
        return folder.exists()
    return bool(spark.catalog.tableExists(identifier))


def _version(spark: SparkSession, identifier: str) -> int:
    folder = _folder(identifier)
    if folder is not None:
        return folder.version()
    return int(spark.sql(f"DESCRIBE HISTORY {identifier} LIMIT 1").first()["version"])


def _schema(spark: SparkSession, identifier: str, version: int) -> StructType:
    folder = _folder(identifier)
    if folder is not None:
        import deltalake

        return folder.spark_schema(deltalake.DeltaTable(str(folder.path), version=version))
    return spark.sql(f"SELECT * FROM {identifier} VERSION AS OF {version}").schema


def _last_state(spark: SparkSession, identifier: str) -> dict[str, Any] | None:
    """The input and model versions the output's latest scoring commit recorded."""
    folder = _folder(identifier)
    if folder is not None:
        recorded = (info.get("userMetadata") for info in folder.commit_infos())
    else:
        history = spark.sql(f"DESCRIBE HISTORY {identifier}").select("userMetadata").collect()
        recorded = (entry["userMetadata"] for entry in history)
    for metadata in recorded:
        try:
            state = json.loads(metadata or "{}").get(_STATE_KEY)
        except ValueError:
            continue
        if state:
            return {k: state[k] for k in ("input_version", "model_version")}
    return None


@contextmanager
def _commit_metadata(spark: SparkSession, metadata: str) -> Iterator[None]:
    """The next Delta commits carry ``metadata``: the state and the rows land together."""
    spark.conf.set(_USER_METADATA, metadata)
    try:
        yield
    finally:
        spark.conf.unset(_USER_METADATA)
