"""Prospects and accounts: import, segments, suppression, enrolment, account pauses and privacy."""
