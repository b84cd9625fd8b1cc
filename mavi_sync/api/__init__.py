"""Talking to memories.ai: one transport, one module per endpoint family, one retry policy."""
