"""Runs an analysed graph: one update, flow by flow in dependency order, incremental or full, triggered or continuous."""
