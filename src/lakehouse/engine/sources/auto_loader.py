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

Files are listed as Auto Loader lists them: in subfolders too, skipping names (and folders)
that start with ``_`` or ``.``. JSON and CSV files are read as bytes and parsed by
``landed_records`` into a name -> text map per record (decompressed as the extension says; CSV
maps by the header's names, or by position without ``header``), so a value that does not fit
its column's type, a column the schema does not have (unless ignored), a line that is not JSON
and a file that cannot be read at all land in ``_rescued_data`` as JSON with the file's path,
instead of failing the update or being lost. The file source and its checkpoint make each file
count once across updates; files that arrive during an update wait for the next one. With
``cloudFiles.allowOverwrites``, a file changed in place is read again by the engine
(``overwritten_files``), through this same reader.
"""

from __future__ import annotations

import fnmatch
import glob
import json
import re
from collections.abc import Collection, Iterable, Mapping
from pathlib import Path

from pyspark import cloudpickle
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import ArrayType, DataType, MapType, StringType, StructField, StructType

from lakehouse.engine.errors import ConfigurationError, PipelineError
from lakehouse.engine.sources import landed_records
from lakehouse.engine.sources.landed_records import RESERVED, file_records, first_line, is_hidden
from lakehouse.engine.storage.local_files import write_atomically

RESCUED = "_rescued_data"
_FORMATS = ("json", "csv", "parquet")
_MODES = ("addNewColumns", "rescue", "failOnNewColumns", "none")
_SAMPLE_FILES = 1000
_GLOB_CHARACTERS = re.compile(r"([\\\[\]{}*?])")
_BINARY_FILE = "path STRING, modificationTime TIMESTAMP, length BIGINT, content BINARY"
# The parser travels with the job (it needs only the standard library), so Python workers on
# any cluster run it without this project installed.
cloudpickle.register_pickle_by_value(landed_records)


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
    files: Collection[str] | None = None,
) -> DataFrame:
    """The streaming DataFrame ``spark.readStream.format("cloudFiles")...load(path)`` gives.
    The schema lives in ``cloudFiles.schemaLocation``, or else in ``default_location``. With
    ``files`` (paths under ``path``), a batch DataFrame of those files, read the same way: files
    changed in place, read again (``overwritten_files``).

    Example:
        >>> auto_loader_stream(spark, "/landing/orders", {"cloudFiles.format": "json"}, None,
        ...                    Path("/lh/pipelines/p/auto_loader/orders"),
        ...                    check_new_columns=True)  # doctest: +SKIP
    """
    file_format = next((v for k, v in options.items() if k.lower() == "cloudfiles.format"), None)
    # A format's option may carry the format's name ("csv.header"), as frameworks write them.
    prefix = f"{file_format}."
    options = {
        k[len(prefix) :] if k.lower().startswith(prefix) else k: v for k, v in options.items()
    }
    settings = {k.lower(): v for k, v in options.items()}
    # The rescued data column is a format option; Databricks' own sdp-meta documents it with
    # the cloudFiles prefix, and Auto Loader takes it that way too.
    if "cloudfiles.rescueddatacolumn" in settings:
        settings.setdefault("rescueddatacolumn", settings["cloudfiles.rescueddatacolumn"])
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
    # Files in dated subfolders count too, as Auto Loader lists them.
    passed.setdefault("recursiveFileLookup", "true")
    source_format = "parquet" if file_format == "parquet" else "binaryFile"
    source_schema = schema if file_format == "parquet" else StructType.fromDDL(_BINARY_FILE)
    if files is None:
        source = spark.readStream.format(source_format).schema(source_schema).options(**passed)
        landed = source.load(path)
    else:
        source = spark.read.format(source_format).schema(source_schema).options(**passed)
        # No files still needs a file source, for _metadata: the folder, filtered out.
        landed = source.load(_literal(files)) if files else source.load(path).where(F.lit(False))
    if file_format == "parquet":
        return landed
    csv_columns = [f.name for f in schema.fields] if user_schema else []
    records = F.udf(
        lambda p, c: file_records(p, c, file_format, settings, csv_columns),
        ArrayType(MapType(StringType(), StringType())),
        useArrow=False,
    )
    parsed = landed.withColumn("__raw", F.explode(records("path", "content")))
    rescued = settings.get("rescueddatacolumn", RESCUED)
    rescue = user_schema is None or "rescueddatacolumn" in settings or mode == "rescue"
    # "none" ignores new columns, unless a rescued data column was asked for.
    keep_unknown = mode != "none" or "rescueddatacolumn" in settings
    return _typed_records(parsed, schema, rescued if rescue else None, keep_unknown=keep_unknown)


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
    # Numbered versions only: a temporary file left by a killed run is not one.
    numbered = (p for p in versions.glob("*") if p.name.isdigit())
    stored = sorted(numbered, key=lambda p: int(p.name))
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
    write_atomically(versions / str(version), schema.json())


def _infer(
    spark: SparkSession, path: str, file_format: str, settings: Mapping[str, str]
) -> StructType | None:
    files = sorted(
        landed_files(path, settings.get("pathglobfilter")), key=lambda p: p.stat().st_mtime
    )
    files = files[-_SAMPLE_FILES:]
    if not files:
        return None
    infer_types = settings.get("cloudfiles.infercolumntypes", "false") == "true"
    if file_format == "csv":
        fields = _infer_csv(spark, files, settings, infer_types)
    else:
        # A file that cannot be read is the stream's to report, as a rescued file error.
        reader = spark.read.format(file_format).option("ignoreCorruptFiles", "true")
        sample = reader.load(_literal(files))
        fields = [f for f in sample.schema.fields if f.name != "_corrupt_record"]
        if file_format == "json" and not infer_types:
            fields = [StructField(f.name, StringType()) for f in fields]
    hints = _hints(settings.get("cloudfiles.schemahints"))
    fields = [StructField(f.name, hints.pop(f.name.lower(), f.dataType)) for f in fields]
    fields += [StructField(name, data_type) for name, data_type in hints.items()]
    return StructType(fields)


def landed_files(path: str, name_filter: str | None = None) -> list[Path]:
    """The files the stream over ``path`` reads: under it at any depth (a glob in ``path``
    matches its folders, as in Spark and Auto Loader), hidden ones left out, names matching
    ``pathGlobFilter`` if it is set.

    Example:
        >>> landed_files("/landing/orders/*/", "*.json")  # doctest: +SKIP
        [PosixPath('/landing/orders/round1/a.json')]
    """
    pattern = path.rstrip("/") or path
    roots = [Path(p) for p in glob.glob(pattern)] if glob.has_magic(pattern) else [Path(path)]
    found = []
    for root in roots:
        candidates = [root] if root.is_file() else root.rglob("*")
        for file in candidates:
            if not file.is_file() or (file != root and is_hidden(file.relative_to(root))):
                continue
            if name_filter is None or fnmatch.fnmatchcase(file.name, name_filter):
                found.append(file)
    return found


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
        header = ""
        if settings.get("header") == "true":
            header = first_line(str(file), file.read_bytes(), settings)
        if header is not None:
            by_header.setdefault(header, []).append(str(file))
    fields: dict[str, StructField] = {}
    for group in by_header.values():
        sample = (
            spark.read.options(**options, multiLine="true", inferSchema=str(infer_types).lower())
            .option("ignoreCorruptFiles", "true")
            .csv(_literal(group))
        )
        for field in sample.schema.fields:
            fields.setdefault(field.name.lower(), field)
    return list(fields.values())


def _literal(files: Iterable[str | Path]) -> list[str]:
    """Paths as Spark's readers take them literally (they are globs: ``x[1].json`` would not
    name itself)."""
    return [_GLOB_CHARACTERS.sub(r"\\\1", str(f)) for f in files]


def _hints(text: str | None) -> dict[str, DataType]:
    if not text:
        return {}
    return {f.name.lower(): f.dataType for f in StructType.fromDDL(text).fields}


def _typed_records(
    parsed: DataFrame,
    schema: StructType,
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
    reserved = F.array(*[F.lit(name) for name in RESERVED])
    # What the reader found wrong with a line or a file is rescued in every mode.
    pieces = [*mismatches, F.map_filter(F.col("__raw"), lambda k, _: F.array_contains(reserved, k))]
    if keep_unknown:
        pieces.append(
            F.map_filter(
                F.col("__raw"),
                lambda k, _: ~F.array_contains(known, k) & ~F.array_contains(reserved, k),
            )
        )
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
