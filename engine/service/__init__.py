"""The daemon as a service: its loop, logs, metrics, webhooks and reports."""
