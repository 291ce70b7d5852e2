"""Sending: the outbox planner (emails and task steps), caps, message composition and the SMTP
dispatcher. Send windows are `engine.basics.windows`."""
