"""The owner's side: when uploads may go and how fast, and what the owner is told."""
