"""`python -m engine` runs the `spear` command line."""

from engine.cli import main

main(prog_name="spear")
