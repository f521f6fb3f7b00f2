"""What every console script shares (tool_command): exit codes, one-line errors, --json, and
a light start-up (no heavy library imported by the CLI layer)."""

import json
import logging
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
CLI_DIR = Path(__file__).resolve().parents[1] / "src" / "enhancer_tools" / "cli"


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
