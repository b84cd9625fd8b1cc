"""One file's way through: hash, plan, register, claim, send, decide, follow, after."""
