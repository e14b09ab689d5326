"""state constructs."""
