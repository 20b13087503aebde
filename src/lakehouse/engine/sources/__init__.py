"""Auto Loader: landed files found, read, tracked and read again when they change."""
