"""`python -m rnnlab`: the `rnnlab` command."""

from rnnlab.cli import main

main()
