"""A DNABERT-2 classifier saved through save_model_dir (as dnabert2-finetune does) loads back by kind."""

from pathlib import Path

import numpy as np
import pytest
import torch

from enhancer_tools.models.dnabert2 import DNABERT2Config, DNABERT2ForSequenceClassification
from enhancer_tools.models.modeldir import provenance, save_model_dir
from enhancer_tools.models.registry import load_model
from enhancer_tools.models.token_adapter import TokenAdapter
from enhancer_tools.metrics.calibration import Calibration

TOKENIZER = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures" / "dnabert2_tiny" / "tokenizer.json"
pytestmark = [pytest.mark.realdata,
              pytest.mark.skipif(not TOKENIZER.is_file(), reason=f"DNABERT-2 tokenizer not found at {TOKENIZER}")]


def test_save_and_load_dnabert2_kind(tmp_path):
    torch.manual_seed(0)
    model = DNABERT2ForSequenceClassification(DNABERT2Config.tiny()).eval()
    out = tmp_path / "m"
    out.mkdir()
    save_model_dir(out, kind="dnabert2", config=model.config.to_dict(), tensors=model.state_dict(),
                   calibration=Calibration(1.5, 0.4), provenance_info=provenance(), max_tokens=32, tokenizer=TOKENIZER)
    loaded = load_model(out)
    assert loaded.kind == "dnabert2" and loaded.max_tokens == 32
    rng = np.random.default_rng(0)
    seqs = ["".join(rng.choice(list("ACGT"), 400)), "GATTACA", "acgtnnacgt"]
    adapter = TokenAdapter(TOKENIZER, 32)
    batch = adapter.collate(adapter.encode(seqs))
    with torch.no_grad():
        logits = model(**batch).logits.double()
    assert np.allclose(loaded.logits(seqs, batch_size=2), (logits[:, 1] - logits[:, 0]).numpy(), atol=1e-5)
    first = adapter.encode(seqs)[0]
    assert len(first) == 32 and first[-1] == adapter.tokenizer.token_to_id("[SEP]")  # truncated, [SEP] kept
