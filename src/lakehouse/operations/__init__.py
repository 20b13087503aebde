"""Operations: freshness monitoring against the contracts' SLAs (more to come: quality
trends, the run report, disaster recovery, replay)."""
