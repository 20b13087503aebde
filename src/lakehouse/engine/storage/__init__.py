"""Where tables live and how Delta tables are read and written: the catalog, the log, writes in the driver or by Spark, merges and the engine's state tables."""
