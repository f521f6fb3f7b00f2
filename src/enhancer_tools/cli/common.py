"""What every console script shares: --json/--quiet/--debug, logging, exit codes, and the
mapping of UserError to a one-line message.

Exit codes: 0 success; 1 internal error (a bug: please report it, --debug shows the
traceback); 2 bad input or options (the message says what to fix); 130 interrupted.
"""

from __future__ import annotations

import functools
import logging
import signal
import sys
from collections.abc import Callable

import click

from enhancer_tools import __version__
from enhancer_tools.errors import CheckFailed, UserError
from enhancer_tools.io.runinfo import RunInfo
from enhancer_tools.progress import set_quiet
from enhancer_tools.training.distributed import env_rank

EXIT_CODES_HELP = (
    "Exit codes: 0 success; 2 bad input or options (one-line message on stderr); "
    "1 internal error (--debug shows the traceback); 130 interrupted."
)
log = logging.getLogger("enhancer_tools")


def setup_logging(tool: str, quiet: bool = False, debug: bool = False, rank: int = 0) -> None:
    """Log to stderr as ``[tool] message``; warnings only with --quiet. Under torchrun the ranks
    other than 0 log errors only (everything, tagged with their rank, with --debug)."""
    root = logging.getLogger("enhancer_tools")
    root.handlers.clear()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(f"[{tool}{f' rank {rank}' if rank else ''}] %(message)s"))
    root.addHandler(handler)
    level = logging.DEBUG if debug else logging.WARNING if quiet else logging.INFO
    root.setLevel(level if rank == 0 or debug else logging.ERROR)
    root.propagate = False


def _sigterm_to_interrupt(signum, frame):  # Galaxy and schedulers stop jobs with SIGTERM
    raise KeyboardInterrupt


EXAMPLE_MARK = "\b\nExample:"


def _epilog(epilog: str) -> str:
    """The tool's epilog text, then the exit codes, then its ``Example:`` block (if any) last."""
    head, mark, example = epilog.rpartition(EXAMPLE_MARK)
    if not mark:
        head, example = epilog, ""
    parts = [head.strip(), EXIT_CODES_HELP, (mark + example).rstrip()]
    return "\n\n".join(part for part in parts if part)


def tool_command(name: str, **command_kwargs) -> Callable:
    """Decorate ``func(run: RunInfo, **options)`` as a click command with the shared options.

    ``func`` fills ``run.counts``/``run.inputs``; the JSON is written after it returns
    successfully when ``--json`` was given. ``epilog`` should end with the tool's example, a
    ``\\b`` paragraph starting ``Example:`` (see ``EXAMPLE_MARK``); the exit codes go before it, so
    ``--help`` ends with the example.
    """

    def decorate(func: Callable) -> click.Command:
        @click.option("--json", "json_path", type=click.Path(dir_okay=False), default=None,
                      help="Write run info (parameters, counts, input checksums, versions) as JSON here.")
        @click.option("-q", "--quiet", is_flag=True, help="Only warnings and errors on stderr; no progress bar.")
        @click.option("--debug", is_flag=True, help="Debug logging, and a traceback for errors.")
        @click.version_option(__version__, prog_name=name, message="%(prog)s %(version)s")
        @functools.wraps(func)
        def command(json_path, quiet, debug, **options):
            rank = env_rank()
            setup_logging(name, quiet, debug, rank)
            set_quiet(quiet or rank != 0)
            signal.signal(signal.SIGTERM, _sigterm_to_interrupt)
            run = RunInfo(name, options)
            try:
                func(run=run, **options)
                if json_path and rank == 0:  # one run info per job, however many processes ran it
                    run.write(json_path)
            except UserError as exc:
                if isinstance(exc, CheckFailed) and json_path:
                    run.write(json_path)
                if debug:
                    raise
                click.echo(f"Error: {exc}", err=True)
                sys.exit(2)
            except KeyboardInterrupt:
                click.echo("Interrupted; no output was written.", err=True)
                sys.exit(130)
            except MemoryError:
                click.echo("Error: out of memory; try a smaller batch or fewer sequences.", err=True)
                sys.exit(1)
            except Exception as exc:  # an internal error: short message, traceback with --debug
                if debug:
                    raise
                click.echo(f"Internal error: {type(exc).__name__}: {exc} (rerun with --debug for a traceback; please report it)", err=True)
                sys.exit(1)

        return click.command(
            name=name,
            epilog=_epilog(command_kwargs.pop("epilog", "")),
            context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
            **command_kwargs,
        )(command)

    return decorate


def user_settings(names: dict[str, str]) -> dict:
    """The options the user gave on the command line (click's parameter source; defaults and
    unset options are left out), as {hyperparameter name: value}. ``names`` maps click
    parameter names to hyperparameter names. This is the one rule for "set by the user": those
    values override the kind's defaults and are never searched by Optuna."""
    ctx = click.get_current_context()
    given = (click.core.ParameterSource.COMMANDLINE, click.core.ParameterSource.ENVIRONMENT)
    return {hp: ctx.params[param] for param, hp in names.items() if ctx.get_parameter_source(param) in given}


def force_option(what: str):
    """``--force``: replace an earlier output folder of this tool (a folder of anything else is never replaced)."""
    return click.option("--force", is_flag=True,
                        help=f"Replace an earlier {what} at -o (the old one is kept until the new one is complete). "
                             "Without it an existing, non-empty -o folder is refused; a folder this tool did not "
                             "write is always refused.")


def output_option(*names, **kwargs):
    """A writable output file path option."""
    return click.option(*names, type=click.Path(dir_okay=False, writable=True), **kwargs)


def input_file(*names, **kwargs):
    """An existing input file (option or argument); missing files are a usage error (exit 2)."""
    kind = click.argument if names and not names[0].startswith("-") else click.option
    return kind(*names, type=click.Path(exists=True, dir_okay=False), **kwargs)
