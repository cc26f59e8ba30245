"""``python -m clientbase`` runs the command line."""

from clientbase.cli.app import main

main()
