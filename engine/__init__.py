"""Spear: an outreach engine for the Cold Calling 2.0 referral play."""

__version__ = "0.1.0"
