"""The report's pretraining section: dnabert2-pretrain's run info parsed from inline JSON (empty and
malformed parts too), a table and a validation masked-accuracy linegraph, nothing when absent."""

import json

from enhancer_tools.report import multiqc_content as mc
from enhancer_tools.report import run_stats as rs

RUN_INFO = json.loads("""{
  "tool": "dnabert2-pretrain", "schema_version": 1, "version": "0.1.0", "steps": 200, "tokens_seen": 1382400,
  "validation": {"masked_accuracy": 0.071, "loss": 6.2, "tiles": 30, "masked_tokens": 950,
                 "majority_token_accuracy": 0.013},
  "pretraining": [
    {"step": 0, "epoch": 0.0, "val_masked_accuracy": 0.0, "val_loss": 8.3, "train_loss": null},
    {"step": 100, "epoch": 1.3, "val_masked_accuracy": 0.031, "val_loss": 7.1, "train_loss": 7.4},
    {"step": 200, "epoch": 2.6, "val_masked_accuracy": 0.071, "val_loss": 6.2, "train_loss": 6.5},
    {"epoch": 3.0, "val_masked_accuracy": 0.5},
    "not a row"
  ]
}""")


def _run(data, name="dnabert2-pretrain"):
    return rs.ToolRun(name=name, tool=data.get("tool", ""), path="x.json", data=data)


def test_curve_and_summary_from_inline_run_info():
    run = _run(RUN_INFO)
    assert rs.pretraining_curve(run) == {"val_masked_accuracy": {0: 0.0, 100: 0.031, 200: 0.071},
                                         "val_loss": {0: 8.3, 100: 7.1, 200: 6.2}}
    assert rs.pretraining_summary(run) == {"steps": 200, "tokens_seen": 1382400, "val_masked_accuracy": 0.071,
                                           "val_loss": 6.2, "val_majority_token_accuracy": 0.013}


def test_empty_and_malformed_run_info_give_nothing():
    for data in ({"tool": "dnabert2-pretrain"}, {"tool": "dnabert2-pretrain", "pretraining": "x", "validation": 3},
                 {"tool": "dnabert2-pretrain", "pretraining": [{"step": "one", "val_loss": 1}]}):
        assert rs.pretraining_curve(_run(data)) == {}
        assert rs.pretraining_summary(_run(data)) == {}
    assert not [s for s in mc.run_sections([_run({"tool": "dnabert2-pretrain", "schema_version": 1})])
                if "pretraining" in s["id"]]


def test_sections_have_fixed_ids_and_the_accuracy_curve():
    sections = {s["id"]: s for s in mc.run_sections([_run(RUN_INFO)])}
    table = sections["enhancer_tools_pretraining"]
    assert table["plot_type"] == "table" and table["data"]["dnabert2-pretrain"]["val_masked_accuracy"] == 0.071
    curve = sections["enhancer_tools_pretraining_curve"]
    assert curve["plot_type"] == "linegraph" and curve["pconfig"]["id"] == "enhancer_tools_pretraining_curve_plot"
    accuracy, loss = curve["data"]
    assert accuracy == {"dnabert2-pretrain": {"0": 0.0, "100": 0.031, "200": 0.071}}
    assert loss["dnabert2-pretrain"]["200"] == 6.2
    assert "enhancer_tools_pretraining_curve" in mc.SECTION_ORDER
    assert "enhancer_tools_training_curves" not in sections, "pretraining is not a classifier's training curve"
