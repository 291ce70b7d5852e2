"""Sending: send windows, caps, message composition, the outbox planner and the SMTP dispatcher."""
