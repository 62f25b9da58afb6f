"""python -m api: the icc-events command line."""

from api.cli import cli

cli()
