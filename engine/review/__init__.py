"""The review queue: what needs a person, their decisions, and the labelled data they make.

- `queue`: which replies wait for a person, as one query (`list_queue`, `QueueFilter`).
- `formatting`: the queue as a table, JSON or CSV (pure).
- `explain`: "Spear will: ..." for a label, in plain words.
- `decisions`: accept, relabel, undo the last decision, export decisions as labelled data.
- `session`: the interactive reviewer's key loop, free of terminal details.
"""
