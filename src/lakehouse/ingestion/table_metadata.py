"""What a contract says about the tables generated from it: properties and column comments.

Every bronze and silver table of a dataset carries ``lakehouse.contract`` (``<id>@<version>``),
``lakehouse.classification`` (the dataset's) and, when some columns are classified otherwise,
``lakehouse.classification.columns`` (a JSON object of column to classification): access rules
are derived from them. Column descriptions become column comments.

Tables that hold rescued data (bronze, and silver's quarantine) classify ``_rescued_data`` at
the source system's highest level: it can hold any column the source sends that the contract
does not know, such as a customer's e-mail landed with an order.
"""

from __future__ import annotations

import json

from lakehouse.contracts import DataContract
from lakehouse.contracts.model import Classification, Column
from lakehouse.engine.observability.masking import CLASSIFICATION, COLUMN_CLASSIFICATIONS

RESCUED = "_rescued_data"  # what Auto Loader keeps of a record that the contract does not know


def contract_properties(
    contract: DataContract, rescued: Classification | None = None
) -> dict[str, str]:
    """The table properties every table generated from ``contract`` carries; ``rescued``, the
    classification of the table's ``_rescued_data`` column when it has one.

    Example:
        >>> contract_properties(orders, Classification.CONFIDENTIAL)["lakehouse.classification.columns"]  # doctest: +SKIP
        '{"_rescued_data": "confidential"}'
    """
    properties = {
        "lakehouse.contract": f"{contract.id}@{contract.version}",
        CLASSIFICATION: contract.classification.value,
    }
    differing = {
        c.name: c.classification.value
        for c in contract.columns
        if c.classification is not contract.classification
    }
    if rescued is not None and rescued.rank > contract.classification.rank:
        differing[RESCUED] = rescued.value
    if differing:
        properties[COLUMN_CLASSIFICATIONS] = json.dumps(differing)
    return properties


def column_metadata(column: Column) -> dict[str, str]:
    """A column's Spark field metadata: its description as the column comment.

    Example:
        >>> F.col("email").alias("email", metadata=column_metadata(column))  # doctest: +SKIP
    """
    return {"comment": column.description} if column.description else {}
