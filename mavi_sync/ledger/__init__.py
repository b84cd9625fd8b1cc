"""The ledger: every file seen, its content hash, remote id, state and duties."""
