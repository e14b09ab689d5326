"""ai constructs."""
