"""SQL pipeline files: statements read by a small grammar, queries parsed by Spark, both registered into the same graph as Python's definitions."""
