"""ToolShed readiness: the .shed.yml files of every tool repository and of the suite are current,
and the tests' `huggingface` data table points at the tiny DNABERT-2 checkpoint that the project
makes itself (scripts/make-tiny-checkpoint.py), which loads and fine-tunes like a released one."""

import json
import runpy
import subprocess
import sys
from pathlib import Path

import torch
import yaml
from safetensors.torch import load_file

ROOT = Path(__file__).resolve().parents[1]
CHECKPOINT = ROOT / "test-data" / "dnabert2_tiny_checkpoint"


def test_shed_yml_files_are_current():
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "write-shed-yml.py"), "--check"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_every_tool_repository_has_shed_metadata_and_the_suite_lists_them():
    tool_dirs = sorted(p.parent for p in ROOT.glob("tools/*/*.xml") if p.name != "macros.xml")
    suite = (ROOT / "suites" / "suite_enhancer_tools" / "repository_dependencies.xml").read_text()
    for folder in tool_dirs:
        shed = yaml.safe_load((folder / ".shed.yml").read_text())
        assert {"name", "owner", "description", "long_description", "homepage_url", "categories",
                "remote_repository_url", "type"} <= set(shed)
        assert f'name="{shed["name"]}"' in suite
    assert yaml.safe_load((ROOT / "suites" / "suite_enhancer_tools" / ".shed.yml").read_text())["type"] == \
        "repository_suite_definition"


def test_test_data_table_row_points_at_the_checkpoint():
    rows = [line.split("\t") for line in (ROOT / "test-data" / "huggingface.loc").read_text().splitlines()
            if line and not line.startswith("#")]
    assert len(rows) == 1 and len(rows[0]) == 7
    value, _, _, _, free_tag, version, path = rows[0]
    assert (free_tag, version) == ("dnabert2", "1") and value == "dnabert2_1_tiny_test"
    here = ROOT / "tools" / "dnabert2-finetune"
    assert Path(path.replace("${__HERE__}", str(here))).resolve() == CHECKPOINT.resolve()
    assert "${__HERE__}/test-data/huggingface.loc" in (here / "tool_data_table_conf.xml.test").read_text()


def test_checkpoint_is_what_the_script_makes(tmp_path):
    make = runpy.run_path(str(ROOT / "scripts" / "make-tiny-checkpoint.py"))["make"]
    fresh = make(tmp_path / "ckpt")
    assert json.loads((fresh / "config.json").read_text()) == json.loads((CHECKPOINT / "config.json").read_text())
    a, b = load_file(fresh / "model.safetensors"), load_file(CHECKPOINT / "model.safetensors")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert (fresh / "tokenizer.json").read_bytes() == (CHECKPOINT / "tokenizer.json").read_bytes()
