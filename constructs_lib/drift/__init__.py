"""Drift detection: AWS Config records every change to the account's resources."""
