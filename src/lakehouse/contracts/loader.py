"""Loads ODCS contract files into ``DataContract``s: YAML, then the standard's JSON schema,
then the platform's own rules (docs/contracts.md). Every problem found is reported at once,
each with its file, line and field."""

from __future__ import annotations

import codecs
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import sqlglot
from sqlglot import exp

from lakehouse.contracts.model import (
    Action,
    CdcSettings,
    Classification,
    Column,
    DataContract,
    QualityRule,
    Sla,
)
from lakehouse.contracts.odcs_schema import odcs_errors
from lakehouse.contracts.problems import ContractError, Problem
from lakehouse.contracts.yaml_source import Path_, YamlSource, field_name

IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*\Z")
SEMVER = re.compile(r"^\d+\.\d+\.\d+\Z")
# A logical type's Spark type when the contract gives no physicalType.
SPARK_TYPES = {
    "string": "STRING",
    "integer": "BIGINT",
    "number": "DOUBLE",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
}
SECONDS = {"s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "day": 86400, "days": 86400}
SQL_RULE = re.compile(
    r"^\s*SELECT\s+COUNT\(\*\)\s+FROM\s+\$\{table\}\s+WHERE\s+(.+?)\s*;?\s*$", re.I | re.S
)
CUSTOM_ENGINE = "spark-sql"
DOMAIN_CONTRACTS = "domains/*/contracts"


def load_contract(file: Path, text: str | None = None) -> DataContract:
    """The contract in ``file`` (or ``text``, read from ``file`` at another time, such as a git
    revision); a ``ContractError`` lists every problem.

    Example:
        >>> load_contract(Path("domains/sales/contracts/crm_customers.yaml")).keys  # doctest: +SKIP
        ('customer_id',)
    """
    return _Reader(file).contract(text)


def find_contracts(paths: Sequence[Path]) -> list[Path]:
    """The contract files under ``paths`` (files as given, folders searched for ``*.yaml``);
    without paths, every domain's (``domains/*/contracts``, from the current folder)."""
    found: list[Path] = []
    for path in paths or sorted(Path().glob(DOMAIN_CONTRACTS)):
        found += sorted(path.rglob("*.yaml")) if path.is_dir() else [path]
    return found


class _Reader:
    def __init__(self, file: Path) -> None:
        self.file = file
        self.problems: list[Problem] = []
        self.source = YamlSource({})
        self.column_names: set[str] = set()  # what the dataset's rules may read

    def problem(self, path: Path_, message: str) -> None:
        self.problems.append(
            Problem(self.file, self.source.line_of(path), field_name(path), message)
        )

    def contract(self, text: str | None) -> DataContract:
        self.source = YamlSource.read(self.file, ContractError, text)
        data = self.source.data
        if not isinstance(data, dict):
            raise ContractError(
                [Problem(self.file, 1, "", "expected a mapping (an ODCS contract)")]
            )
        for path, message in odcs_errors(data):
            self.problem(path, message)
        if self.problems:  # the platform's rules assume a valid ODCS document
            raise ContractError(self.problems)
        contract = self._build(data)
        if contract is None:  # the rules found problems
            raise ContractError(self.problems)
        return contract

    # The platform's rules, on a document the ODCS schema accepts.

    def _build(self, data: dict[str, Any]) -> DataContract | None:
        custom = _custom(data.get("customProperties"))
        source_system = self._identifier(custom, "sourceSystem", ("customProperties",))
        if not SEMVER.match(str(data["version"])):
            self.problem(("version",), "expected a semantic version MAJOR.MINOR.PATCH")
        if not data.get("domain"):
            self.problem((), "'domain' is required: the domain that owns the source")
        team = data.get("team")
        owner = team.get("name") if isinstance(team, dict) else None
        if not owner:
            self.problem(("team",), "'team.name' is required: the owner team")
        mode = self._choice(
            custom, "ingestionMode", ("batch", "near-real-time"), ("customProperties",)
        )
        file_format = self._choice(
            custom, "fileFormat", ("json", "csv", "parquet"), ("customProperties",)
        )
        encoding = self._encoding(custom.get("encoding", "utf-8"))
        allow_overwrites = custom.get("allowOverwrites", False)
        if not isinstance(allow_overwrites, bool):
            self.problem(
                ("customProperties",),
                f"custom property 'allowOverwrites' must be true or false, got {allow_overwrites!r}",
            )
        objects = data.get("schema") or []
        if len(objects) != 1:
            self.problem(
                ("schema",),
                f"expected exactly one schema object (the dataset), found {len(objects)}",
            )
            return None
        obj, at = objects[0], ("schema", 0)
        dataset = obj["name"]
        if not IDENTIFIER.match(dataset):
            self.problem((*at, "name"), "expected a lower-case identifier: it names the tables")
        object_custom = _custom(obj.get("customProperties"))
        classification = self._classification(
            object_custom.get("classification"), (*at, "customProperties"), required=True
        )
        columns = self._columns(obj.get("properties") or [], (*at, "properties"), classification)
        names = {c.name for c in columns}
        self.column_names = names
        quality = self._quality(obj.get("quality") or [], (*at, "quality"), None)
        for i, prop in enumerate(obj.get("properties") or []):
            quality += self._quality(
                prop.get("quality") or [], (*at, "properties", i, "quality"), prop
            )
        seen: set[str] = set()
        for rule in quality:
            if rule.name in seen:
                self.problem(at, f"two quality rules are named '{rule.name}'")
            seen.add(rule.name)
        cdc = self._cdc(custom.get("cdc"), names, columns)
        sla = self._sla(data.get("slaProperties") or [])
        row_filter = object_custom.get("rowFilter")
        if row_filter is not None:
            where = (*at, "customProperties")
            if isinstance(row_filter, str) and row_filter.strip():
                row_filter = self._sql(row_filter, where)
            else:
                self.problem(where, f"custom property 'rowFilter' must be a SQL condition, got {row_filter!r}")  # fmt: skip
        if self.problems:
            return None
        return DataContract(
            id=data["id"], version=str(data["version"]), domain=data["domain"],
            source_system=source_system or "", dataset=dataset,
            description=(data.get("description") or {}).get("purpose"), owner_team=owner or "",
            classification=classification or Classification.GENERAL,
            ingestion_mode=mode, file_format=file_format,  # type: ignore[arg-type]
            encoding=encoding, allow_overwrites=allow_overwrites is True,
            columns=tuple(columns), quality=tuple(quality), cdc=cdc, sla=sla,
            row_filter=row_filter,
        )  # fmt: skip

    def _identifier(self, custom: dict[str, Any], name: str, at: Path_) -> str | None:
        value = custom.get(name)
        if not isinstance(value, str) or not IDENTIFIER.match(value):
            self.problem(at, f"custom property '{name}' is required: a lower-case identifier")
            return None
        return value

    def _choice(
        self, custom: dict[str, Any], name: str, allowed: tuple[str, ...], at: Path_
    ) -> Any:
        value = custom.get(name)
        if value not in allowed:
            self.problem(
                at, f"custom property '{name}' must be one of {list(allowed)}, got {value!r}"
            )
        return value

    def _encoding(self, value: Any) -> str:
        try:
            return codecs.lookup(str(value)).name
        except LookupError:
            self.problem(
                ("customProperties",),
                f"custom property 'encoding' must name a character encoding such as utf-8 or "
                f"latin-1, got {value!r}",
            )
            return "utf-8"

    def _classification(
        self, value: Any, at: Path_, *, required: bool = False
    ) -> Classification | None:
        if value is None and not required:
            return None
        try:
            return Classification(value)
        except ValueError:
            allowed = [c.value for c in Classification]
            self.problem(at, f"classification must be one of {allowed}, got {value!r}")
            return None

    def _columns(
        self, properties: list[dict[str, Any]], at: Path_, dataset: Classification | None
    ) -> list[Column]:
        columns = []
        positions: list[int] = []
        for i, prop in enumerate(properties):
            here = (*at, i)
            name, logical = prop["name"], prop.get("logicalType")
            if not IDENTIFIER.match(name):
                self.problem((*here, "name"), "expected a lower-case identifier")
            if logical is None:
                self.problem(here, "'logicalType' is required")
                continue
            spark_type = self._spark_type(prop.get("physicalType"), logical, here)
            classification = self._classification(
                prop.get("classification"), (*here, "classification")
            )
            position = None
            if prop.get("primaryKey"):
                position = prop.get("primaryKeyPosition", -1)
                position = position if position > 0 else len(positions) + 1
                positions.append(position)
            columns.append(Column(
                name=name, logical_type=logical, spark_type=spark_type or "STRING",
                required=bool(prop.get("required") or prop.get("primaryKey")),
                primary_key_position=position, description=prop.get("description"),
                classification=classification or dataset or Classification.GENERAL,
            ))  # fmt: skip
        if len(set(positions)) != len(positions):
            self.problem(at, "two primary key columns have the same primaryKeyPosition")
        return columns

    def _spark_type(self, physical: str | None, logical: str, at: Path_) -> str | None:
        if physical is None:
            if logical not in SPARK_TYPES:
                self.problem(
                    (*at, "logicalType"),
                    f"logical type '{logical}' needs a physicalType (a Spark type)",
                )
            return SPARK_TYPES.get(logical)
        try:
            cast = sqlglot.parse_one(f"CAST(x AS {physical})", dialect="databricks")
        except sqlglot.errors.ParseError:
            cast = None
        if not isinstance(cast, exp.Cast):
            self.problem((*at, "physicalType"), f"'{physical}' is not a Spark SQL type")
            return None
        return cast.to.sql(dialect="databricks")

    def _quality(
        self, rules: list[dict[str, Any]], at: Path_, prop: dict[str, Any] | None
    ) -> list[QualityRule]:
        """The rules of the dataset (``prop`` None) or of one property."""
        column = None if prop is None else prop["name"]
        parsed = []
        for i, rule in enumerate(rules):
            here = (*at, i)
            if rule.get("type") == "text":
                continue  # for people, not for the pipeline
            name = rule.get("name")
            if not name or not IDENTIFIER.match(name):
                self.problem(
                    here,
                    "a quality rule needs a 'name': a lower-case identifier (it names the expectation)",
                )
                continue
            condition = self._condition(rule, here, prop)
            custom = _custom(rule.get("customProperties"))
            try:
                action = Action(custom.get("action", "warn"))
            except ValueError:
                self.problem(
                    (*here, "customProperties"),
                    f"action must be one of {[a.value for a in Action]}, got {custom['action']!r}",
                )
                continue
            if condition is not None:
                parsed.append(
                    QualityRule(
                        name=name,
                        condition=condition,
                        action=action,
                        column=column,
                        description=rule.get("description"),
                    )
                )
        return parsed

    def _condition(
        self, rule: dict[str, Any], at: Path_, prop: dict[str, Any] | None
    ) -> str | None:
        kind = rule.get("type", "library")
        column = None if prop is None else prop["name"]
        if kind == "custom":
            if rule.get("engine") != CUSTOM_ENGINE or not isinstance(
                rule.get("implementation"), str
            ):
                self.problem(
                    at,
                    f"custom rules need engine '{CUSTOM_ENGINE}' and a SQL condition as implementation",
                )
                return None
            return self._sql(rule["implementation"], (*at, "implementation"))
        if "mustBe" not in rule or rule["mustBe"] != 0:
            self.problem(at, "row-level rules need 'mustBe: 0' (no record may break them)")
            return None
        if kind == "sql":
            match = SQL_RULE.match(rule["query"].replace("${column}", column or "${column}"))
            if match is None:
                self.problem(
                    (*at, "query"),
                    "expected SELECT COUNT(*) FROM ${table} WHERE <what a bad record is>",
                )
                return None
            bad = self._sql(match.group(1), (*at, "query"))
            return None if bad is None else f"NOT coalesce({bad}, false)"
        metric, arguments = rule.get("metric"), rule.get("arguments") or {}
        if column is None:
            self.problem(
                (*at, "metric"), f"'{metric}' applies to a column: put the rule under the property"
            )
            return None
        quoted = f"`{column}`"
        if metric in ("nullValues", "missingValues"):
            return f"{quoted} IS NOT NULL"
        if metric == "invalidValues" and "validValues" in arguments:
            if prop.get("logicalType") == "string" and not all(
                isinstance(v, str) for v in arguments["validValues"]
            ):
                self.problem(
                    (*at, "arguments", "validValues"),
                    "a string column's valid values must be strings: quote them (YAML reads NO as false)",
                )
                return None
            values = ", ".join(
                exp.convert(v).sql(dialect="databricks") for v in arguments["validValues"]
            )
            return f"{quoted} IS NULL OR {quoted} IN ({values})"
        if metric == "invalidValues" and "pattern" in arguments:
            return f"{quoted} IS NULL OR {quoted} RLIKE {exp.convert(arguments['pattern']).sql(dialect='databricks')}"
        self.problem(
            (*at, "metric"),
            f"'{metric}' is not a row-level rule the platform turns into an expectation (nullValues, missingValues, invalidValues with validValues or pattern)",
        )
        return None

    def _sql(self, text: str, at: Path_) -> str | None:
        """A rule's condition, parsed; it may read only the record's own columns, with
        deterministic built-in functions (it runs on every record of every update)."""
        try:
            tree = sqlglot.parse_one(text, dialect="databricks")
        except sqlglot.errors.ParseError as error:
            self.problem(at, f"not valid SQL: {str(error).splitlines()[0]}")
            return None
        refused = rule_sql_problems(tree, self.column_names)
        for message in refused:
            self.problem(at, message)
        return None if refused else tree.sql(dialect="databricks")

    def _cdc(self, value: Any, names: set[str], columns: list[Column]) -> CdcSettings | None:
        at: Path_ = ("customProperties",)
        if value is None:
            return None
        if not isinstance(value, dict):
            self.problem(at, "custom property 'cdc' must be a mapping")
            return None
        try:
            cdc = CdcSettings.model_validate({_snake(k): v for k, v in value.items()})
        except ValueError as error:
            for detail in error.errors():  # type: ignore[attr-defined]
                self.problem(at, f"cdc.{'.'.join(map(str, detail['loc']))}: {detail['msg']}")
            return None
        for column in [
            cdc.sequence_column,
            cdc.operation_column,
            *(cdc.track_history_columns or ()),
            *(cdc.track_history_except_columns or ()),
        ]:
            if column is not None and column not in names:
                self.problem(at, f"cdc names '{column}', which is not a column")
        if (cdc.delete_marker or cdc.truncate_marker) and cdc.operation_column is None:
            self.problem(at, "cdc delete or truncate markers need an operationColumn")
        if not any(c.primary_key_position for c in columns):
            self.problem(
                ("schema", 0, "properties"),
                "cdc needs primary key columns (primaryKey: true): they are the CDC keys",
            )
        return cdc

    def _sla(self, properties: list[dict[str, Any]]) -> Sla:
        seconds: dict[str, int] = {}
        for i, prop in enumerate(properties):
            name = prop.get("property")
            if name not in ("latency", "freshness"):
                continue
            unit, value = str(prop.get("unit", "s")).lower(), prop.get("value")
            if unit not in SECONDS or not isinstance(value, int | float) or value <= 0:
                self.problem(
                    ("slaProperties", i),
                    f"{name} needs a positive value and a unit in {sorted(SECONDS)}",
                )
                continue
            seconds[f"{name}_seconds"] = int(value * SECONDS[unit])
        return Sla(**seconds)


def _custom(properties: list[dict[str, Any]] | None) -> dict[str, Any]:
    """ODCS ``customProperties`` (a list of property/value pairs) as a mapping."""
    return {p["property"]: p["value"] for p in properties or []}


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


# Functions whose result differs from run to run: a rule must say the same of a record each time.
NONDETERMINISTIC = (exp.Rand, exp.Randn, exp.Uuid, exp.CurrentTimestamp, exp.CurrentDate, exp.CurrentTime)  # fmt: skip


def rule_sql_problems(tree: exp.Expression, columns: set[str]) -> list[str]:
    """What a quality rule's condition may not do: read other tables or subqueries, call a
    function that is not a built-in one (a UDF, ``raise_error``), call a nondeterministic one,
    or name a column the dataset does not have.

    Example:
        >>> rule_sql_problems(sqlglot.parse_one("amount > 0 AND rand() < 1"), {"amount"})
        ["'rand' is not deterministic: a rule must judge a record the same way each time"]
    """
    problems = []
    if any(isinstance(n, (exp.Select, exp.Subquery, exp.Table)) for n in tree.walk()):
        problems.append("a rule reads only its own record: no subqueries or other tables")
    lambdas = {p.name for n in tree.find_all(exp.Lambda) for p in n.expressions}
    for node in tree.walk():
        if isinstance(node, exp.Anonymous):
            problems.append(f"'{node.name}' is not a built-in function: rules use no UDFs or raise_error")  # fmt: skip
        elif isinstance(node, NONDETERMINISTIC):
            problems.append(f"'{node.sql_name().lower()}' is not deterministic: a rule must judge a record the same way each time")  # fmt: skip
        elif isinstance(node, exp.Column) and (node.table or node.name not in columns | lambdas):
            problems.append(f"'{node.sql()}' is not a column of the dataset")
    return list(dict.fromkeys(problems))
