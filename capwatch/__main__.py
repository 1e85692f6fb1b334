"""`python -m capwatch` runs the command line."""

from capwatch.cli import main

main()
