"""The scoring control table: one row per model a domain scores, declared in
``domains/<domain>/models/*.yml`` and materialised as a platform-owned Delta table.

Example file (``domains/sales/models/customer_churn.yml``)::

    model: ${env}_gold.sales.customer_churn
    alias: champion
    input_table: ${env}_gold.sales.customer_360
    keys: [customer_id]
    features: [orders, segment, country]
    output_table: ${env}_gold.sales.customer_churn_predictions
    schedule: "0 0 6 * * ?"
    mode: incremental
"""

from __future__ import annotations

import re
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError, field_validator, model_validator

from lakehouse.contracts.model import FrozenModel
from lakehouse.contracts.problems import ConfigFileError, Problem
from lakehouse.contracts.yaml_source import YamlSource, validation_problems
from lakehouse.platform.domains import DOMAINS, Domain, find_domains

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

# One table for every domain: each domain's job replaces its own rows (a domain's target holds
# only its own model files); a developer's deployment writes a table of its own.
CONTROL_TABLE = "{env}_platform.scoring.{prefix}control"
_TABLE = re.compile(r"^\$\{env\}_[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*\Z")
_COLUMN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\Z")
# Quartz, as Databricks job schedules take it: seconds minutes hours day month weekday [year].
_QUARTZ = re.compile(r"^\S+( \S+){5,6}\Z")


class ScoringError(ConfigFileError):
    """A scoring file that cannot be used."""


class UnknownModel(LookupError):
    """``--model`` names no model file."""


class Mode(str, Enum):
    FULL = "full"  # every input row, every run
    INCREMENTAL = "incremental"  # the rows changed since the last run (change data feed)


class ScoringSpec(FrozenModel):
    """One model file: what to score, with what, into where, and when."""

    model: str
    alias: str | None = None
    version: int | None = None
    input_table: str
    keys: tuple[str, ...]
    features: tuple[str, ...]
    output_table: str
    schedule: str
    timezone: str = "UTC"
    mode: Mode = Mode.INCREMENTAL
    enabled: bool = True
    description: str = ""

    @field_validator("model", "input_table", "output_table")
    @classmethod
    def _three_level(cls, value: str) -> str:
        if not _TABLE.match(value):
            raise ValueError(
                f"expected ${{env}}_<catalog>.<schema>.<name> in lower case, got {value!r}"
            )
        return value

    @field_validator("keys", "features")
    @classmethod
    def _columns(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("expected at least one column")
        bad = [c for c in value if not _COLUMN.match(c)]
        if bad:
            raise ValueError(f"not column names: {bad}")
        return value

    @field_validator("schedule")
    @classmethod
    def _quartz(cls, value: str) -> str:
        if not _QUARTZ.match(value.strip()):
            raise ValueError(
                f"expected a Quartz cron expression (6 or 7 fields, e.g. '0 0 6 * * ?'), "
                f"got {value!r}"
            )
        return value.strip()

    @model_validator(mode="after")
    def _one_model_version(self) -> ScoringSpec:
        if (self.alias is None) == (self.version is None):
            raise ValueError("give either alias (e.g. champion) or version, not both or neither")
        overlap = sorted(set(self.keys) & set(self.features))
        if overlap:
            raise ValueError(f"keys are not features: {overlap}")
        return self


class ControlRow(FrozenModel):
    """A spec for one environment: its names resolved, and where it came from."""

    domain: str
    name: str  # the file's stem: what --model selects
    file: str
    model: str
    alias: str | None
    version: int | None
    input_table: str
    keys: tuple[str, ...]
    features: tuple[str, ...]
    output_table: str
    schedule: str
    timezone: str
    mode: Mode
    enabled: bool

    def for_developer(self, prefix: str) -> ControlRow:
        """The row in a developer's own deployment: schemas named ``<prefix><schema>``, and the
        model ``<prefix><name>`` too, as development mode names a bundle's registered models.

        Example:
            >>> row.for_developer("dev_ann_").model  # doctest: +SKIP
            'dev_gold.dev_ann_sales.dev_ann_customer_churn'
        """
        if not prefix:
            return self

        def own(name: str, *, model: bool = False) -> str:
            catalog, schema, table = name.split(".")
            return f"{catalog}.{prefix}{schema}.{prefix if model else ''}{table}"

        return self.model_copy(update={
            "model": own(self.model, model=True),
            "input_table": own(self.input_table),
            "output_table": own(self.output_table),
        })  # fmt: skip

    @property
    def model_reference(self) -> str:
        """``name@alias`` or ``name/version``, as ``models:/`` URIs write it."""
        return f"{self.model}@{self.alias}" if self.alias else f"{self.model}/{self.version}"


def load_scoring_spec(file: Path) -> ScoringSpec:
    """The spec in ``file``; a ``ScoringError`` lists each problem with its line and field.

    Example:
        >>> load_scoring_spec(Path("domains/sales/models/customer_churn.yml")).alias  # doctest: +SKIP
        'champion'
    """
    return _read(file)[0]


def _read(file: Path) -> tuple[ScoringSpec, YamlSource]:
    source = YamlSource.read(file, ScoringError)
    if not isinstance(source.data, dict):
        raise ScoringError([Problem(file, 1, "", "expected a mapping (one model to score)")])
    try:
        return ScoringSpec.model_validate(source.data), source
    except ValidationError as error:
        fields = ScoringSpec.model_fields
        raise ScoringError(validation_problems(error, file, source, lambda _: fields)) from None


def _ownership_problems(
    domain: str, file: Path, spec: ScoringSpec, source: YamlSource
) -> list[Problem]:
    """A domain registers its models and writes its predictions in its own gold schema, where
    its groups hold the grants (and where its development schema is its developer's own)."""
    own = f"${{env}}_gold.{domain}."
    return [
        Problem(file, source.line_of((name,)), name, f"expected {own}<name>: a domain's models and predictions live in its own gold schema")
        for name in ("model", "output_table")
        if not getattr(spec, name).startswith(own)
    ]  # fmt: skip


def control_rows(domains: list[Domain], env: str) -> list[ControlRow]:
    """Every model file of ``domains`` for ``env``, by domain and name; all files' problems
    are reported together.

    Example:
        >>> [r.output_table for r in control_rows(find_domains(), "dev")]  # doctest: +SKIP
        ['dev_gold.sales.customer_churn_predictions']
    """
    rows, problems = [], []
    for domain in domains:
        for file in sorted((domain.folder / "models").glob("*.y*ml")):
            try:
                spec, source = _read(file)
            except ScoringError as error:
                problems += error.problems
                continue
            owned = _ownership_problems(domain.name, file, spec, source)
            problems += owned
            if not owned:
                rows.append(_row(domain.name, file, spec, env))
    if problems:
        raise ScoringError(problems)
    return rows


def selected_rows(
    env: str, model: str | None, domains_root: Path = DOMAINS, schema_prefix: str = ""
) -> tuple[list[ControlRow], list[ControlRow]]:
    """Every control row for ``env`` (in the developer's own schemas with ``schema_prefix``),
    and those ``model`` selects (by file name or registered name; all when None). A bad model
    file is a ``ScoringError``, an unknown ``model`` an ``UnknownModel`` naming the known ones.

    Example:
        >>> every, chosen = selected_rows("dev", "customer_churn")  # doctest: +SKIP
    """
    found = control_rows(find_domains(domains_root), env)
    every_row = [row.for_developer(schema_prefix) for row in found]
    rows = [r for r in every_row if model in (None, r.name, r.model)]
    if not rows and model is not None:
        known = ", ".join(r.name for r in every_row) or "none"
        raise UnknownModel(f"no model file named {model!r} (there are: {known})")
    return every_row, rows


def _row(domain: str, file: Path, spec: ScoringSpec, env: str) -> ControlRow:
    def named(value: str) -> str:
        return value.replace("${env}", env)

    return ControlRow(
        domain=domain,
        name=file.stem,
        file=str(file),
        model=named(spec.model),
        alias=spec.alias,
        version=spec.version,
        input_table=named(spec.input_table),
        keys=spec.keys,
        features=spec.features,
        output_table=named(spec.output_table),
        schedule=spec.schedule,
        timezone=spec.timezone,
        mode=spec.mode,
        enabled=spec.enabled,
    )


def control_table_frame(spark: SparkSession, rows: list[ControlRow]) -> DataFrame:
    """The rows as the control table holds them.

    Example:
        >>> control_table_frame(spark, control_rows(find_domains(), "dev")).show()  # doctest: +SKIP
    """
    ddl = (
        "domain STRING, name STRING, file STRING, model STRING, alias STRING, version INT, "
        "input_table STRING, keys ARRAY<STRING>, features ARRAY<STRING>, output_table STRING, "
        "schedule STRING, timezone STRING, mode STRING, enabled BOOLEAN"
    )
    records: list[dict[str, Any]] = [
        {**r.model_dump(), "keys": list(r.keys), "features": list(r.features), "mode": r.mode.value}
        for r in rows
    ]
    return spark.createDataFrame(records, ddl)
