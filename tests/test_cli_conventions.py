"""What every console script shares (tool_command): exit codes, one-line errors, --json, and
a light start-up (no heavy library imported by the CLI layer); and the command-line habits of
every console script in setup.cfg: -q/--quiet, -j for its thread/worker count, and a --help
that ends with a runnable example of the tool."""

import configparser
import importlib
import json
import logging
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from enhancer_tools import __version__
from enhancer_tools.cli.common import EXIT_CODES_HELP, input_file, tool_command
from enhancer_tools.errors import UserError
from enhancer_tools.io.intervals import read_intervals

HEAVY = ("torch", "transformers", "tokenizers", "optuna", "sklearn", "matplotlib", "pybedtools", "multiqc")
ROOT = Path(__file__).resolve().parents[1]
CLI_DIR = ROOT / "src" / "enhancer_tools" / "cli"
NOT_TOOLS = ("enhancer-unpack-model",)  # the Galaxy wrappers' internal model-zip unpacker
PARALLEL_OPTIONS = ("threads", "jobs", "workers")  # parameter names of a thread/process count: -j


@tool_command("tiny-tool", help="Count the intervals of a BED file.")
@input_file("bed")
@click.option("--fail", type=click.Choice(["none", "internal", "interrupt"]), default="none")
def tiny(run, bed, fail):
    """A minimal tool built the way every real tool is."""
    run.add_input("bed", bed)
    if fail == "internal":
        raise ZeroDivisionError("division by zero")
    if fail == "interrupt":
        raise KeyboardInterrupt
    run.counts["intervals"] = sum(1 for _ in read_intervals(bed))
    click.echo(run.counts["intervals"])


def _invoke(args):
    return CliRunner().invoke(tiny, [str(a) for a in args])


@pytest.fixture
def good_bed(tmp_path):
    path = tmp_path / "ok.bed"
    path.write_text("chr1\t1\t5\nchr1\t9\t20\n")
    return path


@pytest.fixture
def bad_bed(tmp_path):
    path = tmp_path / "bad.bed"
    path.write_text("track x\nchr1\t1\t5\nchr1\t50\t20\n")
    return path


def test_success_writes_stdout_and_json(tmp_path, good_bed):
    result = _invoke([good_bed, "--json", tmp_path / "run.json"])
    assert result.exit_code == 0, result.output
    assert result.stdout == "2\n"
    info = json.loads((tmp_path / "run.json").read_text())
    assert info["tool"] == "tiny-tool"
    assert info["counts"] == {"intervals": 2}
    assert info["parameters"] == {"bed": str(good_bed), "fail": "none"}
    assert info["inputs"]["bed"]["path"] == str(good_bed)
    assert len(info["inputs"]["bed"]["sha256"]) == 64


def test_user_error_is_one_line_exit_2(tmp_path, bad_bed):
    result = _invoke([bad_bed, "--json", tmp_path / "run.json"])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [f"Error: {bad_bed}:3: end 20 is not after start 50"]
    assert "Traceback" not in result.output
    assert not (tmp_path / "run.json").exists()


def test_internal_error_exits_1_without_traceback(tmp_path, good_bed):
    result = _invoke([good_bed, "--fail", "internal", "--json", tmp_path / "run.json"])
    assert result.exit_code == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith("Internal error: ZeroDivisionError: division by zero")
    assert "--debug" in line
    assert "Traceback" not in result.output
    assert not (tmp_path / "run.json").exists()


def test_debug_lets_the_exception_through(good_bed, bad_bed):
    result = _invoke([good_bed, "--fail", "internal", "--debug"])
    assert isinstance(result.exception, ZeroDivisionError)
    result = _invoke([bad_bed, "--debug"])
    assert isinstance(result.exception, UserError)


def test_interrupt_exits_130(good_bed):
    result = _invoke([good_bed, "--fail", "interrupt"])
    assert result.exit_code == 130
    assert "Interrupted" in result.stderr


def test_missing_input_is_a_usage_error_exit_2(tmp_path):
    result = _invoke([tmp_path / "absent.bed"])
    assert result.exit_code == 2
    assert "does not exist" in result.stderr


def test_version_and_help():
    result = _invoke(["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"tiny-tool {__version__}"
    result = _invoke(["-h"])
    assert result.exit_code == 0
    for option in ("--json", "--quiet", "--debug", "--version"):
        assert option in result.stdout
    assert " ".join(EXIT_CODES_HELP.split()) in " ".join(result.stdout.split())


def test_quiet_silences_info_logging():
    @tool_command("talker")
    def talker(run):
        logging.getLogger("enhancer_tools.talker").info("hello info")
        logging.getLogger("enhancer_tools.talker").warning("hello warning")

    loud = CliRunner().invoke(talker, [])
    quiet = CliRunner().invoke(talker, ["--quiet"])
    assert "[talker] hello info" in loud.stderr and "[talker] hello warning" in loud.stderr
    assert "hello info" not in quiet.stderr and "[talker] hello warning" in quiet.stderr


_SLOW_TOOL = """
import sys, time
from enhancer_tools.cli.common import tool_command
from enhancer_tools.io.atomic import AtomicOutputs

@tool_command("slow-tool")
def slow(run):
    with AtomicOutputs() as out:
        out.open(sys.argv[1]).write("partial")
        print("ready", flush=True)
        time.sleep(30)

slow(["--quiet"])
"""


def test_sigterm_exits_130_and_leaves_no_output(tmp_path):
    target = tmp_path / "out.txt"
    proc = subprocess.Popen([sys.executable, "-c", _SLOW_TOOL, str(target)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    proc.send_signal(signal.SIGTERM)
    deadline = time.time() + 20
    while proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    _, err = proc.communicate(timeout=5)
    assert proc.returncode == 130
    assert "Interrupted" in err
    assert list(tmp_path.iterdir()) == []


def test_package_version_entry_point():
    out = subprocess.run([sys.executable, "-m", "enhancer_tools", "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"enhancer-tools {__version__}"


def _heavy_modules_after_import(*modules):
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in modules)
        + f"print(','.join(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_shared_layer_imports_no_heavy_library():
    loaded = _heavy_modules_after_import(
        "enhancer_tools.cli.common",
        "enhancer_tools.io.dataset",
        "enhancer_tools.io.fasta",
        "enhancer_tools.io.intervals",
        "enhancer_tools.io.atomic",
        "enhancer_tools.io.runinfo",
        "enhancer_tools.seq",
        "enhancer_tools.progress",
        "enhancer_tools.demo",
    )
    assert loaded == "", f"importing the shared layer loaded {loaded}; import them inside functions"


@pytest.mark.parametrize("module", sorted(p.stem for p in CLI_DIR.glob("*.py") if p.stem not in ("__init__", "common")))
def test_every_cli_module_starts_light(module):
    loaded = _heavy_modules_after_import(f"enhancer_tools.cli.{module}")
    assert loaded == "", f"enhancer_tools.cli.{module} imports {loaded} at start-up; move it inside the function"


def _console_scripts() -> dict[str, str]:
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    scripts = {}
    for line in cfg["options.entry_points"]["console_scripts"].splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, target = line.partition("=")
            scripts[name.strip()] = target.strip()
    return {name: target for name, target in scripts.items() if name not in NOT_TOOLS}


CONSOLE_SCRIPTS = _console_scripts()


def _command(script: str) -> click.Command:
    module, _, attr = CONSOLE_SCRIPTS[script].partition(":")
    return getattr(importlib.import_module(module), attr)


def test_console_scripts_are_found():
    assert {"bed-summit-window", "score-regions", "report"} <= set(CONSOLE_SCRIPTS)


@pytest.mark.parametrize("script", sorted(CONSOLE_SCRIPTS))
def test_quiet_has_short_q_and_q_means_nothing_else(script):
    command = _command(script)
    result = CliRunner().invoke(command, ["--help"], prog_name=script)
    assert result.exit_code == 0, result.output
    assert "-q, --quiet" in result.stdout
    (quiet,) = [p for p in command.params if "-q" in getattr(p, "opts", ())]
    assert quiet.name == "quiet"


@pytest.mark.parametrize("script", sorted(CONSOLE_SCRIPTS))
def test_thread_or_worker_count_has_short_j(script):
    command = _command(script)
    options = [p for p in command.params if isinstance(p, click.Option)]
    for option in options:
        if option.name in PARALLEL_OPTIONS:
            assert "-j" in option.opts, f"{script} {'/'.join(option.opts)} sets parallel threads/workers: add -j"
    for option in options:
        if "-j" in option.opts:
            assert option.name in PARALLEL_OPTIONS, f"{script} uses -j for {option.name}, not a thread count"


@pytest.mark.parametrize("script", sorted(CONSOLE_SCRIPTS))
def test_help_ends_with_a_runnable_example(script):
    """--help ends with `Example:` and one command line of the tool itself, after the exit codes;
    the line parses with the tool's own options (no unknown option, no missing required one, no
    stray argument). Input files need not exist: only the command line is checked."""
    command = _command(script)
    result = CliRunner().invoke(command, ["--help"], prog_name=script)
    assert result.exit_code == 0, result.output
    lines = [line.strip() for line in result.stdout.rstrip().splitlines()]
    assert "Example:" in lines, f"{script} --help has no Example: block"
    at = len(lines) - 1 - lines[::-1].index("Example:")
    assert any(line.startswith("Exit codes:") for line in lines[:at]), "the example comes after the exit codes"
    example = lines[at + 1:]
    assert example and example[0].startswith(f"{script} "), f"{script}'s example does not run {script}: {example}"
    argv = shlex.split(" ".join(line.removesuffix("\\").strip() for line in example))
    assert argv[0] == script
    ctx = click.Context(command, info_name=script)
    values, extra, _ = command.make_parser(ctx).parse_args(argv[1:])  # unknown options raise here
    assert extra == [], f"{script}'s example has stray arguments {extra}"
    missing = [p.name for p in command.params if p.required and values.get(p.name) in (None, ())]
    assert missing == [], f"{script}'s example lacks required {missing}"
