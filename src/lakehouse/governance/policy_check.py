"""Policy as code: ``lakehouse governance check`` reads the repository (contracts, registry,
sandpits, shares, pipelines and jobs) and the access the platform derives from it (masks,
row filters, grants of the foundation and the targets), and names the file and line of each
violation of the rules below. CI runs it on every pull request.

``classified-column-unmasked``
    A column classified confidential or restricted above its table (whose readers may not see
    it) has a mask in every table it lands in, unless the table is restricted itself.
``granted-outside-domain``
    Data classified above general is readable only by its owning domain's groups: through
    schema, volume, catalog and model grants, the grants job's table grants, the masks' and row
    filters' groups, and sandpits, which need the data owner's approval recorded.
``share-forbidden-data``
    A share holds only data its classification allows to leave the platform, and none of the
    columns masked inside it.
``production-reads-sandpit``
    No domain pipeline, job or model (all of which deploy to test and prod) names a sandpit.

Example:
    >>> [str(v) for v in check_repository(Path("."))]  # doctest: +SKIP
    []
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lakehouse.contracts.model import Classification, DataContract
from lakehouse.contracts.problems import ConfigFileError
from lakehouse.contracts.yaml_source import YamlSource
from lakehouse.engine.settings import SANDPIT_CATALOG
from lakehouse.governance.access import EVERYBODY, registered_model_grants, table_access
from lakehouse.governance.classified_tables import (
    ClassifiedTable,
    classified_tables,
    contract_classification_line,
)
from lakehouse.governance.column_masks import (
    MASKED_LEVELS,
    RESCUED_DATA,
    contract_masks,
)
from lakehouse.governance.row_filters import contract_row_filters
from lakehouse.governance.sandpits import SandpitError, load_sandpits, sandpit_files
from lakehouse.governance.shares import load_shares, share_plan
from lakehouse.ingestion.table_metadata import contract_properties
from lakehouse.platform.domains import Domain, find_domains
from lakehouse.platform.registry import PLATFORM_FILE, REGISTRY_FILE, DomainSpec, load_registry

UNMASKED = "classified-column-unmasked"
GRANTED_OUTSIDE = "granted-outside-domain"
SHARE_FORBIDDEN = "share-forbidden-data"
READS_SANDPIT = "production-reads-sandpit"
RULES = (UNMASKED, GRANTED_OUTSIDE, SHARE_FORBIDDEN, READS_SANDPIT)

ENV = "prod"  # the rules hold in every environment; prod's names read best in messages
# Privileges that show no data: using a container, seeing that objects exist, managing grants
# (an audited act, which is how an operator is elevated just in time).
NO_DATA = {"USE_CATALOG", "USE_SCHEMA", "BROWSE", "CREATE_SCHEMA", "MANAGE", "APPLY_TAG"}
_SANDPIT_NAME = re.compile(rf"[\w}}\]]_{SANDPIT_CATALOG}\b", re.IGNORECASE)
_DOMAIN_CODE = ("pipelines/**/*", "resources/*.y*ml", "models/*.y*ml", "contracts/*.yaml")


@dataclass(frozen=True, order=True)
class Violation:
    """One broken rule, where the repository says what breaks it.

    Example:
        >>> str(Violation(Path("sandpits/x.yml"), 9, GRANTED_OUTSIDE, "..."))
        'sandpits/x.yml:9: granted-outside-domain: ...'
    """

    file: Path
    line: int
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.rule}: {self.message}"


@dataclass(frozen=True)
class OwnedContract:
    """A contract, its file and lines, and its owning domain's registry entry."""

    contract: DataContract
    file: Path
    source: YamlSource
    owner: DomainSpec

    def column_line(self, column: str) -> int:
        names = [c.name for c in self.contract.columns]
        index = names.index(column) if column in names else None
        at = ("schema", 0, "properties", index, "classification") if index is not None else ("schema", 0)  # fmt: skip
        return self.source.line_of(at)

    @property
    def classification_line(self) -> int:
        """The line of the table's classification."""
        return contract_classification_line(self.source)

    @property
    def highest(self) -> Classification:
        """The highest classification of the table and its columns."""
        levels = [self.contract.classification, *(c.classification for c in self.contract.columns)]
        return max(levels, key=lambda c: c.rank)


def check_repository(root: Path) -> list[Violation]:
    """Every violation of the rules in the bundle at ``root``, by file and line; a broken
    contract, registry entry or sandpit file raises its ``ConfigFileError`` (the rules cannot
    be checked over what cannot be read)."""
    platform, specs = load_registry(root)
    tables = classified_tables(root)
    contracts = [
        OwnedContract(t.contract, t.file, YamlSource.read(t.file, ConfigFileError), t.owner)
        for name, t in tables.items()
        if t.contract is not None and name.startswith("bronze.")  # one entry per contract
    ]
    violations = [
        *_unmasked_columns(contracts),
        *_table_grants(contracts),
        *_mask_and_filter_groups(contracts),
        *_foundation_grants(root, platform, specs, contracts),
        *_model_grants(root, specs),
        *_sandpit_reads(root, tables),
        *_shares(root, tables),
        *_sandpit_references(root),
    ]
    return sorted({v: None for v in violations})


def _above_table(owned: OwnedContract) -> list[tuple[str, Classification]]:
    """The columns (``_rescued_data`` included) whose readers are fewer than the table's."""
    contract = owned.contract
    above = [
        (c.name, c.classification)
        for c in contract.columns
        if c.classification in MASKED_LEVELS
        and c.classification.rank > contract.classification.rank
    ]
    if above:  # a record the contract does not know may hold any of these values
        above.append((RESCUED_DATA, max((level for _, level in above), key=lambda c: c.rank)))
    return above


def _layer_tables(contract: DataContract) -> list[tuple[tuple[str, str, str], bool]]:
    """The tables a contract's data lands in, and whether each keeps ``_rescued_data``."""
    ss, name = contract.source_system, contract.dataset
    return [
        ((f"{ENV}_bronze", ss, name), True),
        ((f"{ENV}_silver", ss, name), False),
        ((f"{ENV}_silver", ss, f"{name}_quarantine"), True),
    ]


def _unmasked_columns(contracts: list[OwnedContract]) -> Iterator[Violation]:
    for owned in contracts:
        if owned.contract.classification is Classification.RESTRICTED:
            continue  # only the owning domain's engineers and admins read the table at all
        masks = {(m.table, m.column, m.level) for m in contract_masks(owned.contract, owned.owner, ENV)}  # fmt: skip
        for column, level in _above_table(owned):
            for table, rescued in _layer_tables(owned.contract):
                if column == RESCUED_DATA and not rescued:
                    continue
                if (table, column, level) not in masks:
                    yield Violation(
                        owned.file,
                        owned.column_line(column),
                        UNMASKED,
                        f"{column} is {level.value} in a {owned.contract.classification.value} "
                        f"table and has no {level.value} mask in {'.'.join(table)}",
                    )


def _table_grants(contracts: list[OwnedContract]) -> Iterator[Violation]:
    """The grants job's decision for each table, against what the contract says its columns
    are: a table everybody may read shows no unmasked column above general."""
    for owned in contracts:
        contract = owned.contract
        masks = contract_masks(contract, owned.owner, ENV)
        for table, rescued in _layer_tables(contract):
            level = max((lv for _, lv in _above_table(owned)), key=lambda c: c.rank, default=None)
            properties = contract_properties(contract, level if rescued else None)
            masked = {m.column for m in masks if m.table == table}
            (access,) = table_access({table: properties}, {table: masked})
            if not access.readable_by_everybody:
                continue
            levels = [(None, contract.classification)] + [
                (c.name, c.classification) for c in contract.columns if c.name not in masked
            ]
            for column, found in levels:
                if found.rank > Classification.GENERAL.rank:
                    what = f"column {column}" if column else "the table"
                    yield Violation(
                        owned.file,
                        owned.column_line(column) if column else owned.classification_line,
                        GRANTED_OUTSIDE,
                        f"{'.'.join(table)} would be granted to {EVERYBODY}, but {what} is "
                        f"{found.value} and unmasked",
                    )


def _mask_and_filter_groups(contracts: list[OwnedContract]) -> Iterator[Violation]:
    for owned in contracts:
        groups = _groups(owned.owner)
        for mask in contract_masks(owned.contract, owned.owner, ENV):
            for outsider in sorted(set(mask.visible_to) - groups):
                yield Violation(owned.file, owned.column_line(mask.column), GRANTED_OUTSIDE, f"the {mask.level.value} mask of {'.'.join(mask.table)}.{mask.column} shows it to {outsider}, outside {owned.owner.name}")  # fmt: skip
        for row_filter in contract_row_filters(owned.contract, owned.owner, ENV):
            for outsider in sorted(set(row_filter.owners) - groups):
                yield Violation(owned.file, owned.classification_line, GRANTED_OUTSIDE, f"the row filter of {'.'.join(row_filter.table)} shows every row to {outsider}, outside {owned.owner.name}")  # fmt: skip


def _groups(spec: DomainSpec) -> set[str]:
    principals = {spec.groups.admins, spec.groups.engineers, spec.groups.readers}
    return principals | {p for p in (spec.service_principals.dev, spec.service_principals.test, spec.service_principals.prod) if p}  # fmt: skip


def _data_privileges(grant: dict[str, Any]) -> set[str]:
    return set(map(str, grant.get("privileges", []))) - NO_DATA


def _foundation_grants(
    root: Path, platform: DomainSpec, specs: list[DomainSpec], contracts: list[OwnedContract]
) -> Iterator[Violation]:
    """The platform's catalogs, schemas and volumes: a principal outside the owning domain
    holds no privilege that reads data above general (the landing volumes' copier excepted:
    the platform's engineers write the files there, and list them)."""
    from lakehouse.bundle.resources import foundation
    from lakehouse.bundle.targets import layer_catalogs

    classified: dict[str, OwnedContract] = {}  # source system -> its most classified contract
    for owned in contracts:
        known = classified.get(owned.contract.source_system)
        if owned.highest.rank > max(Classification.GENERAL.rank, known.highest.rank if known else 0):  # fmt: skip
            classified[owned.contract.source_system] = owned
    owners = {spec.name: spec for spec in specs}
    for name, catalog in layer_catalogs(platform, ENV).items():
        if name.endswith(f"_{SANDPIT_CATALOG}"):
            continue  # a sandpit holds what its owner was allowed to read
        for grant in catalog["grants"]:
            if held := _data_privileges(grant):
                yield Violation(root / PLATFORM_FILE, _line(root / PLATFORM_FILE, ("groups", "admins")), GRANTED_OUTSIDE, f"catalog {name} grants {grant['principal']} {', '.join(sorted(held))}, which every domain's data inherits")  # fmt: skip
    resources = foundation(root, ENV)
    for resource, _ in [*resources.schemas.values(), *resources.volumes.values()]:
        body = resource.as_dict()
        volume = "schema_name" in body
        schema = body["schema_name"] if volume else body["name"]
        full_name = ".".join([body["catalog_name"], *([schema] if volume else []), body["name"]])
        layer = body["catalog_name"].removeprefix(f"{ENV}_")
        if layer == "gold" and schema in owners:  # gold's tables are classified by its pipelines
            file = root / "domains" / schema / REGISTRY_FILE
            owner, line = owners[schema], _line(file, ("groups",))
        elif layer in ("landing", "bronze", "silver") and schema in classified:
            found = classified[schema]
            owner, file, line = found.owner, found.file, found.classification_line
        else:
            continue
        copier = {platform.groups.engineers: {"READ_VOLUME", "WRITE_VOLUME"}} if volume and layer == "landing" else {}  # fmt: skip
        for grant in body.get("grants", []):
            held = _data_privileges(grant) - copier.get(grant["principal"], set())
            if held and grant["principal"] not in _groups(owner):
                yield Violation(file, line, GRANTED_OUTSIDE, f"{full_name} grants {grant['principal']} {', '.join(sorted(held))}, outside {owner.name}")  # fmt: skip


def _line(file: Path, path: tuple[str, ...]) -> int:
    return YamlSource.read(file, ConfigFileError).line_of(path)


def _model_grants(root: Path, specs: list[DomainSpec]) -> Iterator[Violation]:
    """A registered model scores its domain's data: only the domain's groups use it."""
    from lakehouse.scoring.control_table import control_rows

    for spec in specs:
        for row in control_rows([Domain(root / "domains" / spec.name)], ENV):
            for grant in registered_model_grants(spec):
                if grant["principal"] not in _groups(spec):
                    yield Violation(Path(row.file), 1, GRANTED_OUTSIDE, f"registered model {row.model} is granted to {grant['principal']}, outside {spec.name}")  # fmt: skip


def _sandpit_reads(root: Path, tables: dict[str, ClassifiedTable]) -> Iterator[Violation]:
    """A sandpit reads data above general only with its data owner's approval recorded (its
    masked columns stay masked for the sandpit's owner)."""
    for sandpit, file in zip(load_sandpits(root), sandpit_files(root), strict=True):
        source = YamlSource.read(file, SandpitError)
        for index, read in enumerate(sandpit.reads):
            line = source.line_of(("reads", index, "table"))
            found = tables.get(read.table)
            if found is None:
                yield Violation(file, line, GRANTED_OUTSIDE, f"{read.table}: no contract or pipeline declares it, so no data owner can approve it")  # fmt: skip
                continue
            level, owner = found.classification, found.owner
            if level is not None and level.rank <= Classification.GENERAL.rank:
                continue
            what = f"{level.value} data" if level else "data of undeclared classification"
            if read.approval is None:
                yield Violation(file, line, GRANTED_OUTSIDE, f"{read.table} is {what} of {owner.name}: record its data owner's approval ({owner.owner})")  # fmt: skip
            elif read.approval.by != owner.owner:
                yield Violation(file, source.line_of(("reads", index, "approval", "by")), GRANTED_OUTSIDE, f"{read.table} is approved by {read.approval.by}, not by {owner.name}'s data owner ({owner.owner})")  # fmt: skip


def _shares(root: Path, tables: dict[str, ClassifiedTable]) -> Iterator[Violation]:
    """A share holds only what its tables' classification lets leave the platform."""
    for declared in load_shares(root):
        _, refusals = share_plan(declared, tables, ENV)
        for refusal in refusals:
            yield Violation(declared.file, refusal.line, SHARE_FORBIDDEN, f"share {declared.name}: {refusal.message}")  # fmt: skip


def _sandpit_references(root: Path) -> Iterator[Violation]:
    """Domain code deploys to test and prod: naming a sandpit catalog there is a production
    pipeline or job reading a sandpit."""
    for domain in find_domains(root / "domains"):
        for file in _files(domain.folder, _DOMAIN_CODE):
            try:
                lines = file.read_text().splitlines()
            except (OSError, UnicodeDecodeError):
                continue
            for number, text in enumerate(lines, start=1):
                if _SANDPIT_NAME.search(text):
                    yield Violation(file, number, READS_SANDPIT, f"{domain.name}'s {file.parent.name} deploy to test and prod and may not read a sandpit ({text.strip()[:80]})")  # fmt: skip


def _files(folder: Path, patterns: Iterable[str]) -> list[Path]:
    return sorted({f for p in patterns for f in folder.glob(p) if f.is_file() and "__pycache__" not in f.parts})  # fmt: skip
