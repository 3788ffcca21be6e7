"""``python -m fractalgen``: the command line."""

from .cli import main

main()
