"""The dispatcher: claims due outbox rows, checks them one last time, sends them, records the reply.

At most once, by construction:

1. **Claim** (`claiming`). Due rows (`planned`/`retry`, time reached, window not yet closed) are
   claimed atomically: `claimed_by` and `claimed_at` are set while the status stays as it was.
   Mailboxes that are paused, or whose daily or hourly cap is used up (`caps`), are skipped, and
   a batch is cut to what the caps still allow.
2. **Check and commit `sending`** (`checks`, `outcomes.Batch.begin`). While the SMTP envelope
   goes out, in one database transaction, the last-moment checks run (suppression, a reply or
   bounce since planning, account paused, enrollment no longer active) and the row either becomes
   `cancelled` (the envelope is reset) or is committed as `sending`; only then does the body,
   the one step that can deliver, go to the server. The update is conditional on our claim, so
   of two daemons only one can win. On the fast path this is one statement whose conditions are
   the checks (`statements.CLEAR_TO_SEND`).
3. **Send, then record** (`loop`, `outcomes`). The SMTP answer becomes `sent` (with the server's
   reply), `retry` (4xx or a connection failure before the body was sent, with exponential
   backoff until a deadline), `failed` (5xx; a refused recipient is a hard bounce), or stays with
   the mailbox paused (AUTH). A `sent` answer is written with the batch's next transaction.

A row left `sending` by a process that died becomes `uncertain` (`recovery`): it is never re-sent
automatically; a person decides. The same holds for a connection lost while the server was
answering the message body.

The modules, in the order a pass uses them: `statements` (the SQL), `recovery`, `caps`,
`claiming`, `checks`, `outcomes` (one mailbox's batch) and `loop` (the `Dispatcher`).
"""

from engine.sending.dispatcher.loop import Dispatcher
from engine.sending.dispatcher.outcomes import DispatchStats
from engine.sending.dispatcher.statements import DUE_STATUSES
from engine.store.jobs import RetryPolicy

__all__ = ["DUE_STATUSES", "DispatchStats", "Dispatcher", "RetryPolicy"]
