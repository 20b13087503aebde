"""Expectations counted in the pass that writes the rows, and row errors carried back from Spark jobs."""
