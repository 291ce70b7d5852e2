"""Unsubscribe through every channel: a reply, the List-Unsubscribe mailto, RFC 8058 one-click.

- `requests`: which inbound messages are unsubscribe requests whatever their body says (sent to
  the mailto target, or with the subject Spear put in the mailto). Pure.
- `tokens`: the HMAC-signed per-recipient token in the one-click URL. Pure.
- `recipients`: what an unsubscribe does to the database (suppress, stop the cadences).
- `app`: the one-click web endpoint (Starlette), served by `spear run` or
  `spear unsubscribe serve`.

A reply the classifier reads as an unsubscribe is handled with every other reply, in
`engine.replies.actions`. Every channel ends in the suppression list, which the dispatcher reads
again right before each message.
"""
