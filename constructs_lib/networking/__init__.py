"""networking constructs."""
