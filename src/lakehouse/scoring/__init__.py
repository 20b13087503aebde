"""Batch scoring driven by a control table: each enabled row scores one MLflow model over one
table and writes its predictions to another.

A row comes from ``domains/<domain>/models/*.yml`` (``control_table.py``), names a registered
model (``model_store.py``: MLflow's registry under the storage folder locally, Unity Catalog
on Databricks), and is scored in full or only over the input's changed rows
(``changed_rows.py``) by ``batch_scoring.py``.
"""
