"""The bundle's Python resources (``python: resources`` in databricks.yml): the selected
target's pipelines and jobs, generated from the contracts and the domain's folder."""

from lakehouse.bundle.resources import load_resources

__all__ = ["load_resources"]
