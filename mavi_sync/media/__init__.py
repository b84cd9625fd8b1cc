"""Media: what a file is (from its bytes), what it says about itself, and who would take it."""
