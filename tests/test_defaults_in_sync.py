"""The window defaults (width, largest N fraction) are defined once, in genome.windows: every CLI
uses them, and every Galaxy wrapper that repeats them as a param value= says the same."""

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from enhancer_tools.cli import background_windows, bed_summit_window, score_regions
from enhancer_tools.genome.windows import DEFAULT_MAX_N_FRAC, DEFAULT_WIDTH

TOOLS = Path(__file__).resolve().parents[1] / "tools"
# Wrapper files, macros.xml once (each tool folder links to it).
XML_FILES = sorted({p.resolve() for p in TOOLS.glob("**/*.xml")})


def _param_values(argument: str) -> dict[str, str]:
    """'file: line of the param' -> value= of every Galaxy param for ``argument`` that has one."""
    found = {}
    for path in XML_FILES:
        for param in ET.parse(path).getroot().iter("param"):
            if param.get("argument") == argument and param.get("value") is not None:
                found[f"{path.relative_to(TOOLS)}: {param.get('label')}"] = param.get("value")
    return found


@pytest.mark.parametrize("argument, convert, expected, holders", [
    ("--width", int, DEFAULT_WIDTH, {"bed-summit-window", "background-windows"}),
    ("--max-n-frac", float, DEFAULT_MAX_N_FRAC, {"bed-summit-window", "background-windows", "macros.xml"}),
])
def test_galaxy_param_defaults_match_python(argument, convert, expected, holders):
    found = _param_values(argument)
    assert {where.split("/")[0].split(":")[0] for where in found} >= holders, found
    wrong = {where: value for where, value in found.items() if convert(value) != expected}
    assert not wrong, f"{argument} defaults differ from genome.windows ({expected}): {wrong}"


@pytest.mark.parametrize("command, name, expected", [
    (bed_summit_window.main, "width", DEFAULT_WIDTH),
    (bed_summit_window.main, "max_n_frac", DEFAULT_MAX_N_FRAC),
    (background_windows.main, "width", DEFAULT_WIDTH),
    (background_windows.main, "max_n_frac", DEFAULT_MAX_N_FRAC),
    (score_regions.main, "max_n_frac", DEFAULT_MAX_N_FRAC),
])
def test_cli_defaults_are_the_shared_ones(command, name, expected):
    (option,) = [p for p in command.params if p.name == name]
    assert option.default == expected
