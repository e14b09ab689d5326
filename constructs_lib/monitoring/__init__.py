"""monitoring constructs."""
