"""Several boxes on one memories.ai account, sharing a PostgreSQL database (issue 18, in
progress): the account's rate budget (budget.py) and the registry of nodes (nodes.py) live
there; each box's ledger stays its own SQLite file for now."""
