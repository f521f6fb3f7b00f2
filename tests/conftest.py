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
def demo_split(tmp_path_factory):
    """Factory ``demo_split(width) -> folder``: the labelled demo split of ``width`` bp windows
    (demo/, train.fa, val.fa; tests/demo_labelled.py), made once per width in a session."""
    root = tmp_path_factory.mktemp("demo-split")

    def get(width: int = 500):
        folder = root / f"w{width}"
        if not folder.exists():
            folder.mkdir()
            make_demo_split(folder, width=width)
        return folder

    return get


@pytest.fixture(scope="session")
def demo_cnn(demo_split, tmp_path_factory):
    """Factory ``demo_cnn(seed, width) -> (folder, model_dir)``: an EnhancerNet trained with its
    defaults for 10 epochs without early stopping on ``demo_split(width)`` (``folder``: demo/,
    train.fa, val.fa), once per (width, seed) in a session; one network (``--replicates 1``),
    as those targets were measured, at a third of the default's time. The explain-regions and
    score-variants demo targets use it."""
    from enhancer_tools.cli.enhancernet_train import main as enhancernet_train

    root = tmp_path_factory.mktemp("demo-cnn")
    models = {}

    def get(seed: int = 1, width: int = 500):
        folder = demo_split(width)
        if (width, seed) not in models:
            threads = torch.get_num_threads()
            try:
                result = CliRunner().invoke(enhancernet_train, [
                    "--train", str(folder / "train.fa"), "--val", str(folder / "val.fa"), "-o", str(root / f"cnn{width}_{seed}"),
                    "--epochs", str(DEMO_CNN_EPOCHS), "--patience", str(DEMO_CNN_EPOCHS), "--replicates", "1", "--threads", "2",
                    "--seed", str(seed), "--quiet"], catch_exceptions=False)
            finally:
                torch.set_num_threads(threads)
            assert result.exit_code == 0, result.output
            models[width, seed] = root / f"cnn{width}_{seed}"
        return folder, models[width, seed]

    return get
