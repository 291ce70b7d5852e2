"""The kinds of `Event` Spear writes: one code per thing that happened.

The values are what the `event` table holds (databases written before these codes existed keep
reading the same strings), so a value is never renamed; a new kind is a new member. Behaviour keys
on the members and on the groups below, never on the text of a value.

What each kind's `data` holds, where a writer and a reader must agree on it, is a `TypedDict` in
`engine.store.payloads`.
"""

from __future__ import annotations

from enum import StrEnum


class EventKind(StrEnum):
    # The outbox: planning, sending and what became of a message.
    PLANNED = "planned"
    PLAN_FAILED = "plan-failed"  # the step did not render: the enrollment is parked
    RESLOTTED = "reslotted"  # missed its window: moved to the next one
    SEND_CANCELLED = "send-cancelled"  # a last-moment check said no
    SEND_FAILED = "send-failed"
    SEND_UNCERTAIN = "send-uncertain"  # the process died mid-transaction
    SEND_SETTLED = "send-settled"  # a person said what became of an uncertain send
    BOUNCE = "bounce"  # refused with 5xx at SMTP time: the address is pruned
    SENT = "sent"  # no longer written (a sent message is its outbox row); kept for old databases

    # Sender mailboxes.
    MAILBOX_PAUSED = "mailbox-paused"
    MAILBOX_RESUMED = "mailbox-resumed"
    MAILBOX_ALARM = "mailbox.alarm"  # too many policy blocks

    # Accounts.
    ACCOUNT_PAUSED = "account-paused"
    ACCOUNT_RESUMED = "account-resumed"
    ACCOUNT_STATUS = "account-status"
    ACCOUNT_ENGAGED = "account.engaged"
    ACCOUNT_HANDED_OFF = "account.handed-off"
    ACCOUNT_STAGE = "account.stage"
    ACCOUNT_GRADE = "account.grade"
    LEAD_ACKNOWLEDGED = "lead.acknowledged"  # the account executive took the lead

    # Prospects and enrollments.
    ENROLLED = "enrolled"
    ENROLLMENT_CREATED = "enrollment.created"  # by a reply (a referral, nurture)
    ENROLLMENT_STOPPED = "enrollment.stopped"
    ENROLLMENT_POSTPONED = "enrollment.postponed"  # an out-of-office note
    PROSPECT_REFERRED = "prospect.referred"
    PROSPECT_INVALID = "prospect.invalid"  # a hard bounce pruned the address
    PROSPECT_ROLE = "prospect.role"
    BOUNCE_SOFT = "bounce.soft"
    BOUNCE_BLOCK = "bounce.block"  # a policy or spam block, counted against the mailbox
    SUPPRESSED = "suppressed"
    UNSUBSCRIBED = "unsubscribed"
    FORGOTTEN = "forgotten"

    # Replies: what their actions did, and their undoing.
    REPLY_APPLIED = "reply.applied"  # one per application: the idempotence marker
    REPLY_RECLASSIFIED = "reply.reclassified"
    HANDOFF_EMAIL = "handoff.email"  # a hand-off email to send; its data tracks the sending
    HAND_OFF = "hand-off"  # no longer written (now `handoff.email`); kept for old databases
    UNDO_REPLY = "undo.reply"  # what undoing a reply's actions did
    UNDO_REVIEW = "undo.review"  # a review decision undone

    # Webhooks: one event per delivery, its kind the delivery's state.
    WEBHOOK_PENDING = "webhook.pending"
    WEBHOOK_SENDING = "webhook.sending"
    WEBHOOK_DELIVERED = "webhook.delivered"
    WEBHOOK_FAILED = "webhook.failed"
    WEBHOOK_SKIPPED = "webhook.skipped"

    # Tasks a person does.
    TASK_PLANNED = "task.planned"
    TASK_SKIPPED = "task.skipped"
    TASK_DONE = "task.done"


# Records of an undo: they are never undone themselves.
UNDO_RECORDS = (EventKind.UNDO_REPLY, EventKind.UNDO_REVIEW)


class WebhookEvent(StrEnum):
    """The events Spear posts to webhooks: the labels of the replies that matter elsewhere."""

    INTEREST = "interest"
    REFERRAL = "referral"
    BOUNCE = "bounce"
    UNSUBSCRIBE = "unsubscribe"


__all__ = ["UNDO_RECORDS", "EventKind", "WebhookEvent"]
