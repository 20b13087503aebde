"""Operations: freshness against the contracts' SLAs and data-quality trends from the event
logs (``lakehouse monitor``), and replay of silver and gold from bronze (``lakehouse replay``)."""
