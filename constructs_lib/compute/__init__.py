"""compute constructs."""
