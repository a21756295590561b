"""``python -m tillage`` runs the command line."""

from tillage.cli.main import main

main()
