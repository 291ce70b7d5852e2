"""`spear demo`: the whole loop on this machine, against the local mail harness, in fast time."""

from __future__ import annotations

from pathlib import Path

import click

from engine.demo.live import main_sync


@click.command()
@click.option(
    "--dir",
    "workdir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(".spear-demo"),
    show_default=True,
    help="Working folder for the demo: new, empty or an earlier demo's (emptied first; kept "
    "afterwards to explore).",
)
@click.option("--days", type=click.FloatRange(min=0.5), default=21, show_default=True)
@click.option(
    "--hours-per-second",
    type=click.FloatRange(min=0.1),
    default=6.0,
    show_default=True,
    help="Simulated hours that pass in one real second.",
)
@click.option("--prospects", type=click.IntRange(1, 5000), default=80, show_default=True)
@click.option("--seed", type=int, default=7, show_default=True, help="For the generated prospects.")
@click.option("-v", "--verbose", is_flag=True, help="Show the daemon's log lines as well.")
def demo(
    workdir: Path, days: float, hours_per_second: float, prospects: int, seed: int, verbose: bool
) -> None:
    """Run the daemon on SQLite against the local mail harness with simulated prospects.

    Sends only inside the recipients' windows, simulated replies classified, referrals enrolled,
    bounced addresses pruned and a review queue, in about a minute. Needs no configuration.
    """
    ok = main_sync(
        workdir,
        days=days,
        hours_per_second=hours_per_second,
        prospects=prospects,
        seed=seed,
        verbose=verbose,
    )
    if not ok:
        raise SystemExit(1)
