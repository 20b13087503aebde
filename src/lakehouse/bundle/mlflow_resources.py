"""The MLflow side of each model file (``domains/<domain>/models/*.yml``) as resources of its
domain's targets: the experiment its training runs log to, and the Unity Catalog registered
model its versions go to, granted to the domain's groups.

They are YAML in the generated targets file (``resources/targets.yml``), not Python
resources, as the pinned databricks-bundles has no types for experiments or registered
models. An experiment takes the target's ``permissions`` (the CLI applies them to
experiments: the domain's admins and engineers manage, its readers read); a registered model
takes ``grants``, as Unity Catalog objects do.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lakehouse.governance import access
from lakehouse.platform.registry import DomainSpec
from lakehouse.scoring.control_table import ControlRow


def experiment_name(row: ControlRow) -> str:
    """Where the model's training runs are logged (development mode prefixes the last part
    with ``[dev <short name>]``).

    Example:
        >>> experiment_name(row)  # doctest: +SKIP
        '/Workspace/Shared/sales/customer_churn'
    """
    return f"/Workspace/Shared/{row.domain}/{row.name}"


def mlflow_resources(rows: Sequence[ControlRow], owner: DomainSpec, env: str) -> dict[str, Any]:
    """The ``experiments`` and ``registered_models`` of a domain's target in ``env``, one of
    each per model file, keyed ``<domain>_<model file>``.

    In development the model goes to the developer's own gold schema, named by reference so
    that a deploy creates the schema first (``resources.personal_schemas``); development mode
    then names the model ``dev_<short name>_<name>``, as the scoring job expects
    (``ControlRow.for_developer``).

    Example:
        >>> sorted(mlflow_resources(rows, sales, "prod")["registered_models"])  # doctest: +SKIP
        ['sales_customer_churn']
    """
    experiments: dict[str, Any] = {}
    models: dict[str, Any] = {}
    for row in rows:
        key = f"{row.domain}_{row.name}"
        catalog, schema, name = row.model.split(".")
        if env == "dev":
            schema = f"${{resources.schemas.{catalog}_{schema}.name}}"
        experiments[key] = {
            "name": experiment_name(row),
            "tags": [{"key": "model", "value": row.model}],
        }
        models[key] = {
            "catalog_name": catalog,
            "schema_name": schema,
            "name": name,
            "comment": f"Scored by the {row.domain}_scoring_{row.name} job as "
            f"domains/{row.domain}/models/{Path(row.file).name} says; training runs log to "
            f"{experiment_name(row)}.",
            "grants": access.registered_model_grants(owner),
        }
    return {"experiments": experiments, "registered_models": models} if rows else {}
