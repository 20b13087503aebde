"""Where MLflow keeps runs and registered models, and what a registered model is.

Locally: a SQLite tracking and registry store with its artifacts under the storage folder
(``<storage>/mlflow``), so models live beside the tables they score. On Databricks: the
workspace's tracking server and Unity Catalog's registry (``databricks-uc``). The same
three-level model names (``dev_gold.sales.customer_churn``) work in both.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# MLflow reports usage over the network unless told not to; a local run has no network.
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

ON_DATABRICKS = "DATABRICKS_RUNTIME_VERSION" in os.environ


class ModelNotFound(LookupError):
    """A control row names a model, version or alias the registry does not have."""


@dataclass(frozen=True)
class ModelVersion:
    """One registered version, resolved from an alias or a version number."""

    name: str
    version: str
    input_columns: tuple[tuple[str, str], ...]  # (name, MLflow type) from its signature

    @property
    def uri(self) -> str:
        return f"models:/{self.name}/{self.version}"


def use_model_store(storage: Path | None) -> None:
    """Point MLflow at the models for this run: the workspace's on Databricks (or wherever
    ``MLFLOW_TRACKING_URI`` says), else the store under ``storage``.

    Example:
        >>> use_model_store(Path(".lakehouse"))  # doctest: +SKIP
    """
    import mlflow

    global _local_uri
    if _configured_elsewhere():
        if ON_DATABRICKS:
            mlflow.set_registry_uri("databricks-uc")
        return
    assert storage is not None, "a local run keeps its models under the storage folder"
    folder = (storage / "mlflow").resolve()
    folder.mkdir(parents=True, exist_ok=True)
    _local_uri = f"sqlite:///{folder / 'mlflow.db'}"
    mlflow.set_tracking_uri(_local_uri)
    mlflow.set_registry_uri(_local_uri)


# The store use_model_store chose; MLflow exports it as MLFLOW_TRACKING_URI.
_local_uri: str | None = None


def _configured_elsewhere() -> bool:
    """On Databricks, or MLFLOW_TRACKING_URI set by the user rather than by us."""
    uri = os.environ.get("MLFLOW_TRACKING_URI")
    return ON_DATABRICKS or (uri is not None and uri != _local_uri)


def experiment(name: str, storage: Path | None) -> str:
    """The id of experiment ``name`` (``/Shared/...`` style names work locally too), made
    when missing, its artifacts under the storage folder locally.

    Example:
        >>> mlflow.start_run(experiment_id=experiment("/Workspace/Shared/sales/customer_churn", storage))  # doctest: +SKIP
    """
    import mlflow

    found = mlflow.get_experiment_by_name(name)
    if found is not None:
        return str(found.experiment_id)
    location = None
    if storage is not None and not _configured_elsewhere():
        location = (storage / "mlflow" / "artifacts").resolve().as_uri()
    return str(mlflow.create_experiment(name, artifact_location=location))


def resolve(name: str, alias: str | None, version: int | None) -> ModelVersion:
    """The version ``alias`` points to (or ``version``), with its signature's inputs.

    Example:
        >>> resolve("dev_gold.sales.customer_churn", "champion", None).version  # doctest: +SKIP
        '3'
    """
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException
    from mlflow.models import get_model_info

    client = MlflowClient()
    try:
        found = (
            client.get_model_version_by_alias(name, alias)
            if alias is not None
            else client.get_model_version(name, str(version))
        )
    except MlflowException as error:
        wanted = f"alias @{alias}" if alias is not None else f"version {version}"
        raise ModelNotFound(f"model {name} has no {wanted} in the registry") from error
    uri = f"models:/{name}/{found.version}"
    signature = get_model_info(uri).signature
    inputs: tuple[tuple[str, str], ...] = ()
    if signature is not None and signature.inputs is not None:
        inputs = tuple(
            (str(column.name), _type_name(column.type)) for column in signature.inputs.inputs
        )
    return ModelVersion(name, str(found.version), inputs)


def _type_name(data_type: Any) -> str:
    return str(getattr(data_type, "name", data_type))
