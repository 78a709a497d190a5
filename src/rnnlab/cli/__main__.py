"""`python -m rnnlab.cli`: the `rnnlab` command."""

from rnnlab.cli import main

main()
