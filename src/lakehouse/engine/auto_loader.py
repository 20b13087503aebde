"""Auto Loader (``spark.readStream.format("cloudFiles")``) on open-source Spark.

Each flow's source schema lives under a schema location (``cloudFiles.schemaLocation``, or one
the engine keeps per flow, as pipelines do), as numbered versions ``_schemas/0``, ``1``, ...
The first update infers it from the files (every column a string for JSON unless
``cloudFiles.inferColumnTypes`` is true; ``cloudFiles.schemaHints`` override types). Each later
update compares it with the files and applies ``cloudFiles.schemaEvolutionMode``:

- ``addNewColumns`` (default without a user schema): new columns join the schema;
- ``rescue``: the schema never changes; new columns go to ``_rescued_data``;
- ``failOnNewColumns``: the update stops, naming the new columns;
- ``none`` (default with a user schema): new columns are ignored.

JSON records are read as text and CSV files whole, and parsed here into a name -> text map per
record (CSV maps by the header's names, or by position without ``header``), so a value that does
not fit its column's type, and a column the schema does not have (unless ignored), lands in
``_rescued_data`` as JSON with the file's path, instead of being lost. The file source and its checkpoint make each file count
once across updates; files that arrive during an update wait for the next one.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Mapping
from pathlib import Path

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import ArrayType, DataType, MapType, StringType, StructField, StructType

from lakehouse.engine.errors import ConfigurationError, PipelineError

RESCUED = "_rescued_data"
_FORMATS = ("json", "csv", "parquet")
_MODES = ("addNewColumns", "rescue", "failOnNewColumns", "none")
_SAMPLE_FILES = 1000


class NewColumnsFound(PipelineError):
    """``failOnNewColumns``: the files have columns the source schema does not."""


def auto_loader_stream(
    spark: SparkSession,
    path: str,
    options: Mapping[str, str],
    user_schema: StructType | None,
    default_location: Path,
    *,
    check_new_columns: bool,
) -> DataFrame:
    """The streaming DataFrame ``spark.readStream.format("cloudFiles")...load(path)`` gives.
    The schema lives in ``cloudFiles.schemaLocation``, or else in ``default_location``.

    Example:
        >>> auto_loader_stream(spark, "/landing/orders", {"cloudFiles.format": "json"}, None,
        ...                    Path("/lh/pipelines/p/auto_loader/orders"),
        ...                    check_new_columns=True)  # doctest: +SKIP
    """
    settings = {k.lower(): v for k, v in options.items()}
    file_format = settings.get("cloudfiles.format")
    if file_format not in _FORMATS:
        raise ConfigurationError(
            f"Auto Loader on {path}: cloudFiles.format must be one of {', '.join(_FORMATS)} "
            f"locally, got {file_format!r}"
        )
    mode = settings.get(
        "cloudfiles.schemaevolutionmode", "none" if user_schema else "addNewColumns"
    )
    if mode not in _MODES:
        raise ConfigurationError(
            f"Auto Loader on {path}: cloudFiles.schemaEvolutionMode must be one of "
            f"{', '.join(_MODES)}, got {mode!r}"
        )
    if file_format == "parquet" and mode == "rescue":
        raise ConfigurationError(
            f"Auto Loader on {path}: schemaEvolutionMode 'rescue' is supported for JSON and CSV "
            "only locally; use addNewColumns or failOnNewColumns"
        )
    schema = user_schema or _source_schema(
        spark,
        path,
        file_format,
        settings,
        Path(settings.get("cloudfiles.schemalocation", default_location)),
        mode,
        check_new_columns,
    )
    # The file source's own options (pathGlobFilter, ...) pass through; CSV's apply here.
    passed = {
        k: v
        for k, v in options.items()
        if not k.lower().startswith("cloudfiles.") and k.lower() != "rescueddatacolumn"
    }
    if "cloudfiles.maxfilespertrigger" in settings:
        passed["maxFilesPerTrigger"] = settings["cloudfiles.maxfilespertrigger"]
    if file_format == "parquet":
        return spark.readStream.format("parquet").schema(schema).options(**passed).load(path)
    text = spark.readStream.format("text").options(**passed)
    if file_format == "json":
        lines = text.load(path).where(F.trim("value") != "")
        parsed = lines.withColumn("__raw", F.from_json("value", "map<string,string>"))
        # A line that is not a JSON object is kept whole.
        corrupt = F.when(
            F.col("__raw").isNull(), F.create_map(F.lit("_corrupt_record"), F.col("value"))
        )
    else:
        files = text.option("wholetext", "true").load(path)
        records = _csv_records(settings, schema if user_schema else None)
        parsed = files.withColumn("__raw", F.explode(records("value")))
        corrupt = None
    rescued = settings.get("rescueddatacolumn", RESCUED)
    rescue = user_schema is None or "rescueddatacolumn" in settings or mode == "rescue"
    # "none" ignores new columns, unless a rescued data column was asked for.
    keep_unknown = mode != "none" or "rescueddatacolumn" in settings
    return _typed_records(
        parsed, schema, corrupt, rescued if rescue else None, keep_unknown=keep_unknown
    )


def _source_schema(
    spark: SparkSession,
    path: str,
    file_format: str,
    settings: Mapping[str, str],
    location: Path,
    mode: str,
    check_new_columns: bool,
) -> StructType:
    versions = location / "_schemas"
    stored = sorted(versions.glob("*"), key=lambda p: int(p.name)) if versions.is_dir() else []
    if stored and not check_new_columns:
        return StructType.fromJson(json.loads(stored[-1].read_text()))
    inferred = _infer(spark, path, file_format, settings)
    if not stored:
        if inferred is None:
            raise ConfigurationError(
                f"Auto Loader on {path}: no files to infer the schema from; land a file first "
                "or give the stream a schema"
            )
        _save(versions, 0, inferred)
        return inferred
    current = StructType.fromJson(json.loads(stored[-1].read_text()))
    known = {f.name.lower() for f in current.fields}
    new = [f for f in (inferred.fields if inferred else []) if f.name.lower() not in known]
    if new and mode == "addNewColumns":
        current = StructType([*current.fields, *new])
        _save(versions, int(stored[-1].name) + 1, current)
    elif new and mode == "failOnNewColumns":
        raise NewColumnsFound(
            f"Auto Loader on {path}: the files have new columns "
            f"{', '.join(f.name for f in new)} and cloudFiles.schemaEvolutionMode is "
            "failOnNewColumns; give the stream a schema with them, or remove those files"
        )
    return current


def _save(versions: Path, version: int, schema: StructType) -> None:
    versions.mkdir(parents=True, exist_ok=True)
    temporary = versions / f".{version}.tmp"
    temporary.write_text(schema.json())
    temporary.replace(versions / str(version))


def _infer(
    spark: SparkSession, path: str, file_format: str, settings: Mapping[str, str]
) -> StructType | None:
    files = sorted(
        (p for p in Path(path).rglob("*") if p.is_file() and not p.name.startswith((".", "_"))),
        key=lambda p: p.stat().st_mtime,
    )[-_SAMPLE_FILES:]
    if not files:
        return None
    infer_types = settings.get("cloudfiles.infercolumntypes", "false") == "true"
    if file_format == "csv":
        fields = _infer_csv(spark, files, settings, infer_types)
    else:
        sample = spark.read.format(file_format).load([str(f) for f in files])
        fields = [f for f in sample.schema.fields if f.name != "_corrupt_record"]
        if file_format == "json" and not infer_types:
            fields = [StructField(f.name, StringType()) for f in fields]
    hints = _hints(settings.get("cloudfiles.schemahints"))
    fields = [StructField(f.name, hints.pop(f.name.lower(), f.dataType)) for f in fields]
    fields += [StructField(name, data_type) for name, data_type in hints.items()]
    return StructType(fields)


def _infer_csv(
    spark: SparkSession, files: list[Path], settings: Mapping[str, str], infer_types: bool
) -> list[StructField]:
    """The union of the files' columns, in order of first appearance: Spark infers the types,
    one read per distinct header, since it maps a file's columns by position."""
    options = {
        k: settings[k] for k in ("header", "sep", "delimiter", "quote", "escape") if k in settings
    }
    by_header: dict[str, list[str]] = {}
    for file in files:
        with file.open(newline="") as handle:
            first_line = handle.readline() if settings.get("header") == "true" else ""
        by_header.setdefault(first_line, []).append(str(file))
    fields: dict[str, StructField] = {}
    for group in by_header.values():
        sample = spark.read.options(
            **options, multiLine="true", inferSchema=str(infer_types).lower()
        ).csv(group)
        for field in sample.schema.fields:
            fields.setdefault(field.name.lower(), field)
    return list(fields.values())


def _hints(text: str | None) -> dict[str, DataType]:
    if not text:
        return {}
    return {f.name.lower(): f.dataType for f in StructType.fromDDL(text).fields}


def _csv_records(settings: Mapping[str, str], schema: StructType | None) -> Callable:
    """A UDF from a CSV file's text to its records as name -> text maps: names from the header
    with ``header``, else the given schema's by position, else ``_c0``, ``_c1``, ... Blank
    lines are skipped and empty fields are NULL, as Spark's CSV reader does; values beyond the
    names come as ``_c<position>``, so they are rescued rather than lost."""
    header = settings.get("header", "false").lower() == "true"
    dialect = {
        "delimiter": settings.get("sep", settings.get("delimiter", ",")),
        "quotechar": settings.get("quote", '"'),
        "escapechar": settings.get("escape", "\\"),
    }
    positional = [f.name for f in schema.fields] if schema else []

    def records(text: str) -> list[dict[str, str | None]]:
        rows = [r for r in csv.reader(io.StringIO(text), **dialect) if any(r)]
        names = rows.pop(0) if header and rows else positional
        return [
            {names[i] if i < len(names) else f"_c{i}": value or None for i, value in enumerate(row)}
            for row in rows
        ]

    return F.udf(records, ArrayType(MapType(StringType(), StringType())), useArrow=False)


def _typed_records(
    parsed: DataFrame,
    schema: StructType,
    corrupt: Column | None,
    rescued_column: str | None,
    *,
    keep_unknown: bool,
) -> DataFrame:
    """Typed columns from each record's name -> text map ``__raw``; with a ``rescued_column``,
    what does not fit goes there as JSON with the file path."""
    columns: list[Column] = []
    mismatches: list[Column] = []
    for field in schema.fields:
        text = F.col("__raw").getItem(field.name)
        value = _typed(text, field.dataType)
        columns.append(value.alias(field.name))
        mismatches.append(
            F.when(text.isNotNull() & value.isNull(), F.create_map(F.lit(field.name), text))
        )
    if rescued_column is None:
        return parsed.select(*columns)
    known = F.array(*[F.lit(f.name) for f in schema.fields])
    unknown = F.map_filter(F.col("__raw"), lambda k, _: ~F.array_contains(known, k))
    pieces = [*mismatches, *([corrupt] if corrupt is not None else [])]
    if keep_unknown:
        pieces.append(unknown)
    rescued = F.map_concat(
        *[F.coalesce(p, F.create_map().cast("map<string,string>")) for p in pieces]
    )
    with_path = F.map_concat(
        rescued, F.create_map(F.lit("_file_path"), F.col("_metadata.file_path"))
    )
    return parsed.select(
        *columns,
        F.when(F.size(rescued) > 0, F.to_json(with_path)).alias(rescued_column),
    )


def _typed(text: Column, data_type: DataType) -> Column:
    if isinstance(data_type, StringType):
        return text
    if data_type.typeName() in ("struct", "array", "map"):
        return F.from_json(text, data_type)
    return text.try_cast(data_type)
