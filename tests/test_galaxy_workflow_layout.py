"""The Galaxy workflows are published the IWC way: creator, license, release and an annotation on
every step; their tool steps name our wrappers at their current version; each has a -tests.yml
that checks labelled outputs from files that exist. The classification workflow uses every
wrapper but the listed ones. Running them in Galaxy is galaxy/test-in-galaxy.sh."""

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pysam
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / "galaxy" / "workflows" / "enhancer-classification.ga"
WORKFLOWS = sorted((ROOT / "galaxy" / "workflows").glob("*.ga"))


def _wrapper_versions() -> dict[str, str]:
    tokens = {t.get("name"): t.text for t in ET.parse(ROOT / "tools" / "macros.xml").getroot().iter("token")}
    version = f"{tokens['@TOOL_VERSION@']}+galaxy{tokens['@VERSION_SUFFIX@']}"
    return {ET.parse(xml).getroot().get("id"): version
            for xml in (ROOT / "tools").glob("*/*.xml") if xml.name != "macros.xml"}


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.stem)
def test_workflow_metadata_and_annotations(workflow):
    wf = json.loads(workflow.read_text())
    assert wf["license"] == "MIT"
    assert re.fullmatch(r"\d+\.\d+\.\d+", wf["release"])
    assert wf["creator"] and wf["annotation"].strip()
    for step in wf["steps"].values():
        assert step["annotation"].strip(), f"step {step['label']} has no annotation"
        assert step["label"]


# Wrappers that are deliberately no step of the classification workflow, and why.
NOT_IN_WORKFLOW = {
    "enhancer_dnabert2_pretrain": "optional domain adaptation before fine-tuning (hours on a GPU at study scale)",
    "enhancer_explain_regions": "interpretation of a trained model, a follow-up to the classification workflow; not "
                                "added as a workflow step until one is tested in a real Galaxy (issue 20)",
}


def test_the_classification_workflow_uses_every_wrapper():
    wf = json.loads(WORKFLOW.read_text())
    used = {s["tool_id"] for s in wf["steps"].values() if s["type"] == "tool"}
    assert used == set(_wrapper_versions()) - set(NOT_IN_WORKFLOW), "every wrapper is used"


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.stem)
def test_tool_steps_use_current_wrappers_and_mark_connections(workflow):
    wrappers = _wrapper_versions()
    wf = json.loads(workflow.read_text())
    tool_steps = [s for s in wf["steps"].values() if s["type"] == "tool"]
    for step in tool_steps:
        assert step["tool_version"] == wrappers[step["tool_id"]], step["label"]
        state = json.loads(step["tool_state"])
        if "when" in step:  # a conditional step: its `when` input gates the step, it is no tool parameter
            assert step["when"] == "$(inputs.when)" and "when" in step["input_connections"], step["label"]
        for key in (k for k in step["input_connections"] if k != "when"):
            node = state
            for part in key.split("|"):
                repeat = re.fullmatch(r"(.+)_(\d+)", part)
                if repeat and isinstance(node.get(repeat.group(1)), list):
                    node = node[repeat.group(1)][int(repeat.group(2))]
                else:
                    node = node[part]
            assert node == {"__class__": "ConnectedValue"}, f"{step['label']}: {key}"


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.stem)
def test_tests_check_labelled_outputs_from_existing_files(workflow):
    wf = json.loads(workflow.read_text())
    tests = workflow.with_name(f"{workflow.stem}-tests.yml")
    labels = {o["label"] for s in wf["steps"].values() for o in s["workflow_outputs"]}
    inputs = {s["label"] for s in wf["steps"].values() if s["type"] != "tool"}
    for case in yaml.safe_load(tests.read_text()):
        assert set(case["job"]) <= inputs
        for value in case["job"].values():
            if isinstance(value, dict):
                assert (tests.parent / value["path"]).is_file(), value["path"]
        assert case["outputs"] and set(case["outputs"]) <= labels


def test_the_ensemble_steps_are_optional_and_gated_together():
    """model-ensemble, its scoring and the report that includes it run only with ensemble = true
    (a boolean input, false by default); every step fed by a gated step is gated too, so no
    ungated step ever receives a skipped dataset."""
    wf = json.loads(WORKFLOW.read_text())
    steps = {s["id"]: s for s in wf["steps"].values()}
    (flag,) = [s for s in steps.values() if s["label"] == "ensemble"]
    assert json.loads(flag["tool_state"]) == {"name": "ensemble", "parameter_type": "boolean", "default": False}
    gated = {s["id"] for s in steps.values() if s.get("when")
             and s["input_connections"]["when"] == [{"id": flag["id"], "output_name": "output"}]}
    assert {steps[i]["tool_id"] for i in gated} == {"enhancer_model_ensemble", "enhancer_score_regions",
                                                    "enhancer_report"}
    for step in steps.values():
        sources = {c["id"] for key, conns in step["input_connections"].items() if key != "when" for c in conns}
        if sources & gated:
            assert step["id"] in gated, step["label"]


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.stem)
def test_the_variant_step_is_optional_and_scores_the_trained_dnabert2(workflow):
    """score-variants runs only with score_variants = true (a boolean input, false by default) and
    takes its VCF from an optional input, so runs without a VCF are unchanged; it scores with the
    DNABERT-2 the main report scores, against the workflow's genome; nothing ungated reads it.
    Both workflows (from scratch and from a pretrained checkpoint) have it."""
    wf = json.loads(workflow.read_text())
    steps = {s["id"]: s for s in wf["steps"].values()}
    by_label = {s["label"]: s for s in steps.values()}
    flag, vcf = by_label["score_variants"], by_label["variants"]
    assert json.loads(flag["tool_state"]) == {"name": "score_variants", "parameter_type": "boolean", "default": False}
    vcf_state = json.loads(vcf["tool_state"])
    assert vcf["type"] == "data_input" and vcf_state["optional"] is True
    assert set(vcf_state["format"]) == {"vcf", "vcf_bgzip"}
    (step,) = [s for s in steps.values() if s.get("tool_id") == "enhancer_score_variants"]
    assert step["when"] == "$(inputs.when)"
    conns = {key: [(c["id"], c["output_name"]) for c in conn] for key, conn in step["input_connections"].items()}
    dnabert2 = by_label["dnabert2"]["id"]
    assert conns == {"model": [(dnabert2, "model")], "variants": [(vcf["id"], "output")],
                     "reference|genome": [(by_label["genome"]["id"], "output")], "when": [(flag["id"], "output")]}
    main_scoring = by_label["score_dnabert2"]["input_connections"]["model"]
    assert [(c["id"], c["output_name"]) for c in main_scoring] == [(dnabert2, "model")]
    assert json.loads(step["tool_state"])["reference"]["source"] == "history"
    assert {o["output_name"] for o in step["workflow_outputs"]} == {"annotated", "effects", "rejects"}
    for other in steps.values():
        sources = {c["id"] for key, cs in other["input_connections"].items() if key != "when" for c in cs}
        assert step["id"] not in sources and vcf["id"] not in sources or other is step, other["label"]
    cases = yaml.safe_load(workflow.with_name(f"{workflow.stem}-tests.yml").read_text())
    assert any(case["job"].get("score_variants") is True and "variants" in case["job"] for case in cases)
    assert all("variants" not in case["job"] for case in cases if not case["job"].get("score_variants"))


def test_the_workflow_test_vcf_matches_the_demo_genome():
    """The workflow test's VCF: every REF as in the demo genome (case ignored), so every ALT is
    scored (the test expects no rejects)."""
    genome = pysam.FastaFile(str(ROOT / "test-data" / "demo_small" / "genome.fa"))
    vcf = ROOT / "test-data" / "demo_small" / "variants.vcf"
    records = [line.split("\t") for line in vcf.read_text().splitlines() if not line.startswith("#")]
    assert len(records) >= 5
    for chrom, pos, _id, ref, *_ in records:
        assert genome.fetch(chrom, int(pos) - 1, int(pos) - 1 + len(ref)).upper() == ref.upper(), (chrom, pos)
