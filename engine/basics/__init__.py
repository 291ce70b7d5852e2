"""The shared low-level vocabulary: pure types and rules every other part builds on.

- `segments`: the schema of a segment filter (who), read by the config and by cadences.
- `windows`: send windows and waits (when), in the recipient's own time.
- `outcomes`: the call outcome codes and what each makes a cadence do.
- `stages`: stages, grades and buyer roles of an account, and their win rates.
- `headers`: text that is safe in an email header, and the last check of a message.

Nothing here imports from a part above the store, so the config, cadences, prospects, sending and
replies can all depend on it without depending on each other.
"""
