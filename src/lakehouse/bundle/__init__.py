"""The Databricks Asset Bundle: the domain registry, targets generated from it, resources
generated from contracts and domain folders, and their offline validation."""
