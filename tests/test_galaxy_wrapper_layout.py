"""Every Galaxy wrapper is wired the same way: listed in galaxy/tool_conf.xml, versioned by the
shared macros, with macros.xml and test-data reachable from its folder (planemo and the server
both resolve them there). The real-Galaxy tests are galaxy/test-in-galaxy.sh (make test-galaxy)."""

import configparser
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
TOOLS = ROOT / "tools"
WRAPPERS = sorted(p for p in TOOLS.glob("*/*.xml") if p.name != "macros.xml")


def _tool_conf_files() -> set[str]:
    root = ET.parse(ROOT / "galaxy" / "tool_conf.xml").getroot()
    return {t.get("file") for t in root.iter("tool")}


@pytest.mark.parametrize("xml", WRAPPERS, ids=lambda p: p.parent.name)
def test_wrapper_is_listed_versioned_and_finds_its_files(xml):
    assert f"{xml.parent.name}/{xml.name}" in _tool_conf_files()
    assert xml.stem == xml.parent.name, "tools/<tool>/<tool>.xml"
    tool = ET.parse(xml).getroot()
    assert tool.get("id") == "enhancer_" + xml.parent.name.replace("-", "_")
    assert tool.get("version") == "@TOOL_VERSION@+galaxy@VERSION_SUFFIX@"
    assert tool.get("profile") == "@PROFILE@"
    assert (xml.parent / "macros.xml").resolve() == (TOOLS / "macros.xml").resolve()
    assert (xml.parent / "test-data").resolve() == (ROOT / "test-data").resolve()
    assert tool.find("command").get("detect_errors") == "exit_code"


# Console scripts that are not user-facing tools and so have no wrapper of their own:
# enhancer-unpack-model is the wrappers' safe model-zip unpacker (@UNPACK_MODEL@ in macros.xml).
HELPER_SCRIPTS = {"enhancer-unpack-model"}


def test_every_console_script_has_a_wrapper_except_the_helpers():
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    scripts = {line.split("=")[0].strip()
               for line in cfg["options.entry_points"]["console_scripts"].splitlines() if "=" in line}
    assert HELPER_SCRIPTS <= scripts
    assert scripts - HELPER_SCRIPTS == {xml.parent.name for xml in WRAPPERS}
    assert "enhancer-unpack-model '$model_zip'" in (TOOLS / "macros.xml").read_text()


def test_gpu_routing_names_real_tool_ids():
    conf = yaml.safe_load((ROOT / "galaxy" / "job_conf.example.yml").read_text())
    environments = conf["execution"]["environments"]
    for rule in conf["tools"]:
        assert rule["environment"] in environments
        assert rule["id"].startswith("enhancer_")
    routed = {rule["id"] for rule in conf["tools"]}
    assert {"enhancer_dnabert2_finetune", "enhancer_score_regions"} <= routed
