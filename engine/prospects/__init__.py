"""Prospects and accounts: import, segments, suppression, enrolment and privacy."""
