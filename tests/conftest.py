"""Fixtures shared by several test modules."""

import pytest
import torch
from click.testing import CliRunner
from demo_labelled import make_demo_split

DEMO_CNN_EPOCHS = 10


@pytest.fixture(autouse=True)
def restore_threads():
    """Every test leaves torch's thread count as it found it (the tools set it from --threads)."""
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def demo_cnn(tmp_path_factory):
    """Factory ``demo_cnn(seed, width) -> (folder, model_dir)``: an EnhancerNet trained with its
    defaults for 10 epochs without early stopping on the demo split of ``width`` bp windows
    (``folder``: demo/, train.fa, val.fa), once per (width, seed) in a session. The explain-regions
    and score-variants demo targets use it."""
    from enhancer_tools.cli.enhancernet_train import main as enhancernet_train

    root = tmp_path_factory.mktemp("demo-cnn")
    models = {}

    def get(seed: int = 1, width: int = 500):
        folder = root / f"w{width}"
        if not folder.exists():
            folder.mkdir()
            make_demo_split(folder, width=width)
        if (width, seed) not in models:
            threads = torch.get_num_threads()
            try:
                result = CliRunner().invoke(enhancernet_train, [
                    "--train", str(folder / "train.fa"), "--val", str(folder / "val.fa"), "-o", str(folder / f"cnn{seed}"),
                    "--epochs", str(DEMO_CNN_EPOCHS), "--patience", str(DEMO_CNN_EPOCHS), "--threads", "2",
                    "--seed", str(seed), "--quiet"], catch_exceptions=False)
            finally:
                torch.set_num_threads(threads)
            assert result.exit_code == 0, result.output
            models[width, seed] = folder / f"cnn{seed}"
        return folder, models[width, seed]

    return get
