"""What a contract says about the tables generated from it: properties and column comments.

Every bronze and silver table of a dataset carries ``lakehouse.contract`` (``<id>@<version>``),
``lakehouse.classification`` (the dataset's) and, when some columns are classified otherwise,
``lakehouse.classification.columns`` (a JSON object of column to classification): access rules
are derived from them. Column descriptions become column comments.
"""

from __future__ import annotations

import json

from lakehouse.contracts import DataContract
from lakehouse.contracts.model import Column


def contract_properties(contract: DataContract) -> dict[str, str]:
    """The table properties every table generated from ``contract`` carries.

    Example:
        >>> contract_properties(contract)["lakehouse.classification"]  # doctest: +SKIP
        'confidential'
    """
    properties = {
        "lakehouse.contract": f"{contract.id}@{contract.version}",
        "lakehouse.classification": contract.classification.value,
    }
    differing = {
        c.name: c.classification.value
        for c in contract.columns
        if c.classification is not contract.classification
    }
    if differing:
        properties["lakehouse.classification.columns"] = json.dumps(differing)
    return properties


def column_metadata(column: Column) -> dict[str, str]:
    """A column's Spark field metadata: its description as the column comment.

    Example:
        >>> F.col("email").alias("email", metadata=column_metadata(column))  # doctest: +SKIP
    """
    return {"comment": column.description} if column.description else {}
