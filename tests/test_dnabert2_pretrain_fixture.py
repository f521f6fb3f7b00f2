"""dnabert2-pretrain continues the fixture's masked-LM checkpoint (the released layout: a torch.save
state dict with a tied decoder) from its own weights: the run's model, before its first step,
gives the masked-LM logits of the original implementation (within 1e-4)."""

import json

import pytest
import torch
from dnabert2_finetune_helpers import FIXTURES
from pretrain_helpers import pretrain_cli, small_genome
from safetensors.torch import load_file

from enhancer_tools.models.dnabert2 import DNABERT2ForMaskedLM
from enhancer_tools.training.pretrain import Pretrainer

CHECKPOINT = FIXTURES / "mlm_checkpoint"
pytestmark = [pytest.mark.realdata,
              pytest.mark.skipif(not (CHECKPOINT / "pytorch_model.bin").is_file(),
                                 reason=f"DNABERT-2 fixture not found at {FIXTURES}")]


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_continues_from_the_checkpoint_weights(tmp_path, monkeypatch):
    reference = load_file(FIXTURES / "expected.safetensors")
    mlm_reference = load_file(CHECKPOINT / "expected_mlm.safetensors")
    real = reference["attention_mask"].bool()
    before = {}
    original_step = Pretrainer.train_step

    def first_step_checked(self, micro_batches):
        if not before:
            self.model.eval()
            with torch.no_grad():
                before["logits"] = self.model(reference["input_ids"], reference["attention_mask"]).logits[real]
                before["embeddings"] = self.model.bert.embeddings.word_embeddings.weight.detach().clone()
            self.model.train()
        return original_step(self, micro_batches)

    monkeypatch.setattr(Pretrainer, "train_step", first_step_checked)
    genome = small_genome(tmp_path)
    out = tmp_path / "mlm"
    result = pretrain_cli("--genome", genome, "--model", CHECKPOINT, "--tokenizer", FIXTURES / "tokenizer.json",
                          "-o", out, "--max-length", 64, "--steps", 2, "--batch-size", 4, "--eval-every", 1,
                          "--learning-rate", 1e-3, "--device", "cpu", "-j", 1, "-q", "--json", tmp_path / "run.json")
    assert result.exit_code == 0, result.output
    selected = mlm_reference["selected_cols"]
    torch.testing.assert_close(before["logits"][:, selected], mlm_reference["mlm_logits_unpadded_selected_cols"],
                               atol=1e-4, rtol=1e-5)
    assert torch.equal(before["logits"].argmax(-1), mlm_reference["mlm_logits_argmax_unpadded"])

    after = DNABERT2ForMaskedLM.from_pretrained(out)
    assert not torch.equal(after.bert.embeddings.word_embeddings.weight, before["embeddings"]), "it trained"
    assert after.cls.predictions.decoder.weight is after.bert.embeddings.word_embeddings.weight
    config = json.loads((out / "config.json").read_text())
    assert config["architectures"] == ["BertForMaskedLM"] and config["vocab_size"] == 4096
    info = json.loads((tmp_path / "run.json").read_text())
    assert [e["step"] for e in info["pretraining"]] == [0, 1, 2]
