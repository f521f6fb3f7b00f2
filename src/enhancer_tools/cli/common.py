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

EXIT_CODES_HELP = (
    "Exit codes: 0 success; 2 bad input or options (one-line message on stderr); "
    "1 internal error (--debug shows the traceback); 130 interrupted."
)
log = logging.getLogger("enhancer_tools")


def setup_logging(tool: str, quiet: bool = False, debug: bool = False) -> None:
    """Log to stderr as ``[tool] message``; warnings only with --quiet."""
    root = logging.getLogger("enhancer_tools")
    root.handlers.clear()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(f"[{tool}] %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if debug else logging.WARNING if quiet else logging.INFO)
    root.propagate = False


def _sigterm_to_interrupt(signum, frame):  # Galaxy and schedulers stop jobs with SIGTERM
    raise KeyboardInterrupt


def tool_command(name: str, **command_kwargs) -> Callable:
    """Decorate ``func(run: RunInfo, **options)`` as a click command with the shared options.

    ``func`` fills ``run.counts``/``run.inputs``; the JSON is written after it returns
    successfully when ``--json`` was given.
    """

    def decorate(func: Callable) -> click.Command:
        @click.option("--json", "json_path", type=click.Path(dir_okay=False), default=None,
                      help="Write run info (parameters, counts, input checksums, versions) as JSON here.")
        @click.option("--quiet", is_flag=True, help="Only warnings and errors on stderr; no progress bar.")
        @click.option("--debug", is_flag=True, help="Debug logging, and a traceback for errors.")
        @click.version_option(__version__, prog_name=name, message="%(prog)s %(version)s")
        @functools.wraps(func)
        def command(json_path, quiet, debug, **options):
            setup_logging(name, quiet, debug)
            set_quiet(quiet)
            signal.signal(signal.SIGTERM, _sigterm_to_interrupt)
            run = RunInfo(name, options)
            try:
                func(run=run, **options)
                if json_path:
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

        epilog = command_kwargs.pop("epilog", "")
        return click.command(
            name=name,
            epilog=(epilog + "\n\n" if epilog else "") + EXIT_CODES_HELP,
            context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
            **command_kwargs,
        )(command)

    return decorate


def output_option(*names, **kwargs):
    """A writable output file path option."""
    return click.option(*names, type=click.Path(dir_okay=False, writable=True), **kwargs)


def input_file(*names, **kwargs):
    """An existing input file (option or argument); missing files are a usage error (exit 2)."""
    kind = click.argument if names and not names[0].startswith("-") else click.option
    return kind(*names, type=click.Path(exists=True, dir_okay=False), **kwargs)
