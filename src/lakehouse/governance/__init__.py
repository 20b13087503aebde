"""Governance as code: who may read what, from the registry's roles and the data's
classification."""
