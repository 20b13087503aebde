"""Operations: freshness against the contracts' SLAs and data-quality trends from the event
logs (``lakehouse monitor``)."""
