"""The `mavi-sync` commands: the parser that wires them, one module per command or family."""
