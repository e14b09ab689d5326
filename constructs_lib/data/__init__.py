"""data constructs."""
