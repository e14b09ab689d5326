"""Errors a construct raises for bad arguments.

``main.py`` prints a :class:`ValidationError` as one clear message (no traceback)
and exits non-zero before anything is written. Messages name the construct, the
argument and the value.
"""


class ValidationError(ValueError):
    """An argument breaks a rule of the construct or of AWS."""
