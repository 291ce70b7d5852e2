"""The demo: the whole loop on one machine, against the local mail harness, in fast time."""
