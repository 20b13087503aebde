"""AUTO CDC: a source's rows read as change events and applied as SCD type 1 or 2."""
