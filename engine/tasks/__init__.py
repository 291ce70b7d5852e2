"""Steps a person does: calls, LinkedIn touches and other tasks in a cadence, and their outcomes.

`outcomes` is pure (the telesales outcome codes and what each makes the cadence do), `planning`
turns a due task step into a task row in the prospect's window, `recording` closes a task with
its outcome and carries that outcome out, undoably.
"""
