"""``python -m fractalgen``: the command line (same as the ``fractalgen`` script)."""

from .cli import main

if __name__ == "__main__":  # the guard keeps spawned worker processes from re-running the command
    main()
