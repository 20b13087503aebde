"""Operations: freshness against the contracts' SLAs and data-quality trends from the event
logs (``lakehouse monitor``), replay of silver and gold from bronze (``lakehouse replay``), and
disaster recovery (``lakehouse dr``)."""
