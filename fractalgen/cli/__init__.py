"""The ``fractalgen`` command line: thin click commands that parse, call the library and print.

Errors: click's own argument errors exit with status 2 and usage help. A :class:`~fractalgen.errors.RecipeError`,
:class:`~fractalgen.errors.ParamsError`, :class:`~fractalgen.errors.ImageInputError` or
:class:`~fractalgen.errors.NoStoreError` (a store path that holds no store) -- the user's input is wrong -- also
exits 2, any other :class:`~fractalgen.errors.FractalgenError` (a damaged or unfinished store, a gate nothing
passes, a full disk) exits 1; both print one
line, ``Error: ...``, and no traceback. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import click

from ..errors import FractalgenError, ImageInputError, NoStoreError, ParamsError, RecipeError, SettingsError

#: The errors that mean the user's input is wrong (exit 2); every other FractalgenError is a failure (exit 1).
BAD_INPUT = (RecipeError, ParamsError, ImageInputError, NoStoreError, SettingsError)


class UserError(click.ClickException):
    """A one-line error caused by the user's input."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class FractalgenGroup(click.Group):
    """Turns every :class:`FractalgenError` raised by a command into a one-line error and an exit status."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except FractalgenError as err:
            code = 2 if isinstance(err, BAD_INPUT) else 1
            raise UserError(str(err), code) from None


@click.group(cls=FractalgenGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="fractalgen")
@click.option("--threads", type=click.IntRange(1), default=None,
              help="Threads of the parallel kernels in this process (images of 256 x 256 and more; worker "
                   "processes always use one). Default: numba's, all cores.")
def main(threads: int | None) -> None:
    """Generate seeded, reproducible fractal image sets and preview fractal-mixing augmentations."""
    from .. import _machine

    _machine.freeze_at_exit()  # a command ends ~0.3 s sooner
    _machine.compile_notice = lambda line: click.echo(line, err=True)  # the first run on a machine says so
    if threads is not None:
        from .._jit import set_threads

        try:
            set_threads(threads)
        except RecipeError as err:
            raise UserError(str(err), 2) from None


def _register() -> None:
    from . import mix as mix_cmds
    from . import render as render_cmds
    from . import stats as stats_cmds
    from . import store as store_cmds

    for cmd in render_cmds.COMMANDS + store_cmds.COMMANDS + mix_cmds.COMMANDS + stats_cmds.COMMANDS:
        main.add_command(cmd)


_register()
