"""Steps a person does: calls, LinkedIn touches and other tasks in a cadence, and their outcomes.

The planner opens a task for a due task step (`engine.sending.tasks`); the outcome codes are
pure (`engine.basics.outcomes`). Here: `listing` shows the open tasks, and `recording` closes a
task with its outcome and carries that outcome out, undoably.
"""
