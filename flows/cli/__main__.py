"""`python -m flows.cli`: the esgtrack command line."""

from flows.cli import main

main()
