"""The Galaxy workflow is published the IWC way: creator, license, release and an annotation on
every step; its tool steps name our wrappers at their current version; its -tests.yml checks
labelled outputs from files that exist. Running it in Galaxy is galaxy/test-in-galaxy.sh."""

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / "galaxy" / "workflows" / "enhancer-classification.ga"
TESTS = WORKFLOW.with_name("enhancer-classification-tests.yml")


def _wrapper_versions() -> dict[str, str]:
    tokens = {t.get("name"): t.text for t in ET.parse(ROOT / "tools" / "macros.xml").getroot().iter("token")}
    version = f"{tokens['@TOOL_VERSION@']}+galaxy{tokens['@VERSION_SUFFIX@']}"
    return {ET.parse(xml).getroot().get("id"): version
            for xml in (ROOT / "tools").glob("*/*.xml") if xml.name != "macros.xml"}


def test_workflow_metadata_and_annotations():
    wf = json.loads(WORKFLOW.read_text())
    assert wf["license"] == "MIT"
    assert re.fullmatch(r"\d+\.\d+\.\d+", wf["release"])
    assert wf["creator"] and wf["annotation"].strip()
    for step in wf["steps"].values():
        assert step["annotation"].strip(), f"step {step['label']} has no annotation"
        assert step["label"]


def test_tool_steps_use_current_wrappers_and_mark_connections():
    wrappers = _wrapper_versions()
    wf = json.loads(WORKFLOW.read_text())
    tool_steps = [s for s in wf["steps"].values() if s["type"] == "tool"]
    assert {s["tool_id"] for s in tool_steps} == set(wrappers), "every wrapper is used"
    for step in tool_steps:
        assert step["tool_version"] == wrappers[step["tool_id"]], step["label"]
        state = json.loads(step["tool_state"])
        for key in step["input_connections"]:
            node = state
            for part in key.split("|"):
                repeat = re.fullmatch(r"(.+)_(\d+)", part)
                if repeat and isinstance(node.get(repeat.group(1)), list):
                    node = node[repeat.group(1)][int(repeat.group(2))]
                else:
                    node = node[part]
            assert node == {"__class__": "ConnectedValue"}, f"{step['label']}: {key}"


def test_tests_check_labelled_outputs_from_existing_files():
    wf = json.loads(WORKFLOW.read_text())
    labels = {o["label"] for s in wf["steps"].values() for o in s["workflow_outputs"]}
    inputs = {s["label"] for s in wf["steps"].values() if s["type"] != "tool"}
    for case in yaml.safe_load(TESTS.read_text()):
        assert set(case["job"]) <= inputs
        for value in case["job"].values():
            if isinstance(value, dict):
                assert (TESTS.parent / value["path"]).is_file(), value["path"]
        assert case["outputs"] and set(case["outputs"]) <= labels
