"""Data contracts (ODCS v3): loading, validation, and the typed model ingestion reads."""

from lakehouse.contracts.loader import find_contracts, load_contract
from lakehouse.contracts.model import DataContract
from lakehouse.contracts.problems import ContractError, Problem

__all__ = ["ContractError", "DataContract", "Problem", "find_contracts", "load_contract"]
