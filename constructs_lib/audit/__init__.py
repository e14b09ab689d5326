"""Audit: the record of every API call made in an account (CloudTrail)."""
