"""Find it again: search the account's footage as files on this box (search.py, places.py),
compare the ledger with the server (check.py), rebuild a lost ledger (recover.py), keep
consistent copies of it (backup.py), and file videos into server folders (folders.py)."""
