"""The web inbox: `spear web`, where a rep works through replies in a browser.

- `access`: who may reach it (loopback unless a password is set) and password hashes.
- `claims`: leases on queued replies, so two reviewers never decide the same one.
- `reviewing`: queue pages, one reply's view and the decisions, through `engine.review`.
- `around`: accounts, mailboxes, the outbox and the report, through the CLI's modules.
- `chart`: the report's weekly trend as server-side SVG (pure).
- `app`: the Starlette app (routes, session, CSRF, security headers); `templates/` and
  `static/` hold its pages, script and style.
- `server`: uvicorn, in the foreground or beside the daemon.
"""
