"""Sections of config/<env>.yaml, one module per area."""
