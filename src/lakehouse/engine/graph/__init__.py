"""The pipeline graph as data: frozen definitions, table names, and the registry that pipeline files fill while they load."""
