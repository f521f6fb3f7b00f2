"""One model-directory layout: save, load by kind, score, and clear errors for broken folders."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from enhancer_tools.errors import UserError
from enhancer_tools.models.enhancernet import EnhancerNet, EnhancerNetConfig
from enhancer_tools.models.modeldir import provenance, save_model_dir
from enhancer_tools.models.registry import load_model
from enhancer_tools.metrics.calibration import Calibration

FIXTURE = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures" / "dnabert2_tiny"


def _save_cnn(folder: Path, calibration=Calibration(2.0, 0.7)) -> EnhancerNet:
    torch.manual_seed(0)
    model = EnhancerNet(EnhancerNetConfig(width=64, channels=[4, 4, 4], kernel_sizes=[3, 3, 3], dense=4)).eval()
    folder.mkdir()
    save_model_dir(folder, kind="enhancernet", config=model.config.as_dict(), tensors=model.state_dict(),
                   calibration=calibration, provenance_info=provenance(training_args={"epochs": 1}),
                   window={"width": 64})
    return model


def test_layout_and_round_trip(tmp_path):
    model = _save_cnn(tmp_path / "m")
    names = sorted(p.name for p in (tmp_path / "m").iterdir())
    assert names == ["calibration.json", "config.json", "model.json", "model.safetensors", "provenance.json"]
    info = json.loads((tmp_path / "m" / "model.json").read_text())
    assert info["kind"] == "enhancernet" and info["format_version"] == 1
    cal = json.loads((tmp_path / "m" / "calibration.json").read_text())
    assert cal == {"temperature": 2.0, "threshold": 0.7, "chosen_on": "validation"}
    assert json.loads((tmp_path / "m" / "provenance.json").read_text())["package"] == "enhancer-tools"

    loaded = load_model(tmp_path / "m")
    assert loaded.kind == "enhancernet" and loaded.window == {"width": 64} and loaded.max_tokens is None
    seqs = ["ACGT" * 16, "acgtnnnnacgt" * 5, "A" * 200]
    z = loaded.logits(seqs)
    assert z.shape == (3,) and z.dtype == np.float64
    x = loaded.scorer.adapter.collate(loaded.scorer.adapter.encode(seqs))["x"]
    with torch.no_grad():
        assert np.allclose(z, model(x).double().numpy())
    assert np.allclose(loaded.probability(z), 1 / (1 + np.exp(-z / 2.0)))
    assert np.array_equal(loaded.call(z), loaded.probability(z) >= 0.7)
    assert loaded.logits([]).shape == (0,)


def test_missing_or_unknown(tmp_path):
    with pytest.raises(UserError, match="not found"):
        load_model(tmp_path / "absent")
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="no model.json"):
        load_model(tmp_path / "empty")
    _save_cnn(tmp_path / "m")
    info = tmp_path / "m" / "model.json"
    info.write_text(json.dumps({"kind": "svm", "format_version": 1}))
    with pytest.raises(UserError, match="unknown kind"):
        load_model(tmp_path / "m")
    info.write_text(json.dumps({"kind": "enhancernet", "format_version": 9}))
    with pytest.raises(UserError, match="format_version"):
        load_model(tmp_path / "m")
    info.write_text("{not json")
    with pytest.raises(UserError, match="not valid JSON"):
        load_model(tmp_path / "m")


def test_bad_calibration_and_weights(tmp_path):
    _save_cnn(tmp_path / "m", Calibration(-1.0, 0.5))
    with pytest.raises(UserError, match="temperature"):
        load_model(tmp_path / "m")
    _save_cnn(tmp_path / "n")
    (tmp_path / "n" / "config.json").write_text(json.dumps({"width": 64, "channels": [8, 8, 8], "kernel_sizes": [3, 3, 3]}))
    with pytest.raises(UserError, match="do not describe an EnhancerNet"):
        load_model(tmp_path / "n")


def test_unknown_device(tmp_path):
    _save_cnn(tmp_path / "m")
    with pytest.raises(UserError, match="unknown device"):
        load_model(tmp_path / "m", device="tpu")


@pytest.mark.realdata
@pytest.mark.skipif(not FIXTURE.is_dir(), reason=f"DNABERT-2 fixture not found at {FIXTURE}")
def test_plain_huggingface_dnabert2_folder():
    expected = json.loads((FIXTURE / "expected.json").read_text())
    inputs = json.loads((FIXTURE / "inputs.json").read_text())
    loaded = load_model(FIXTURE)
    assert loaded.kind == "dnabert2"
    assert (loaded.calibration.temperature, loaded.calibration.threshold) == (1.0, 0.5)
    assert loaded.max_tokens == 512
    # The reference tokenised lowercase as-is; our tools upper-case first, so that sequence is left out.
    keep = [i for i, s in enumerate(inputs["sequences"]) if s == s.upper()]
    z = loaded.logits([inputs["sequences"][i] for i in keep], batch_size=4)
    logits = np.asarray(expected["main"]["logits"])[keep]
    assert np.allclose(z, logits[:, 1] - logits[:, 0], atol=1e-4)
