"""Checks a loaded graph and orders it before any data moves."""
