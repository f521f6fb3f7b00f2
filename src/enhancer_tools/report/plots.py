"""Stand-alone figures (PNG and SVG) of the evaluation: PR and ROC curves of all models,
reliability diagram, and score histograms by class. matplotlib's object API (no pyplot state),
so it is safe in a library and needs no display."""

from __future__ import annotations

import os

import numpy as np

FIGURE_NAMES = ("pr_curves", "roc_curves", "calibration", "score_histograms")


def _new_figure(width: float = 6.0, height: float = 5.0, ncols: int = 1, nrows: int = 1):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    return fig, axes


def _style(ax, xlabel: str, ylabel: str, title: str) -> None:
    ax.set_xlabel(xlabel, fontsize=12)
    ax.set_ylabel(ylabel, fontsize=12)
    ax.set_title(title, fontsize=13)
    ax.set_xlim(-0.01, 1.01)
    ax.set_ylim(-0.01, 1.01)
    ax.grid(True, alpha=0.3)
    ax.tick_params(labelsize=10)


def _save(fig, out_dir: str, name: str) -> list[str]:
    paths = []
    for ext in ("png", "svg"):
        path = os.path.join(out_dir, f"{name}.{ext}")
        fig.savefig(path, dpi=150, metadata={"Date": None} if ext == "svg" else None)
        paths.append(path)
    return paths


def write_figures(models, metrics: dict, curves: dict, out_dir: str) -> list[str]:
    """Write every figure as PNG and SVG into ``out_dir``; returns the paths written."""
    import matplotlib

    matplotlib.rcParams["svg.hashsalt"] = "enhancer-tools"  # reproducible SVG ids
    colours = matplotlib.colormaps["tab10"].colors
    written: list[str] = []
    prevalence = float(models[0].label.mean())

    fig, (ax,) = _new_figure()
    for i, m in enumerate(models):
        c = curves[m.name]["pr"]
        ax.plot(c["recall"], c["precision"], color=colours[i % 10], lw=2,
                label=f"{m.name} (PR-AUC {metrics[m.name]['pr_auc']:.3f})")
    ax.axhline(prevalence, color="grey", ls="--", lw=1, label=f"no skill ({prevalence:.2f})")
    _style(ax, "Recall", "Precision", "Precision-recall curves")
    ax.legend(loc="lower left", fontsize=10)
    written += _save(fig, out_dir, "pr_curves")

    fig, (ax,) = _new_figure()
    for i, m in enumerate(models):
        c = curves[m.name]["roc"]
        ax.plot(c["fpr"], c["tpr"], color=colours[i % 10], lw=2,
                label=f"{m.name} (ROC-AUC {metrics[m.name]['roc_auc']:.3f})")
    ax.plot([0, 1], [0, 1], color="grey", ls="--", lw=1, label="chance")
    _style(ax, "False positive rate", "True positive rate", "ROC curves")
    ax.legend(loc="lower right", fontsize=10)
    written += _save(fig, out_dir, "roc_curves")

    fig, (ax,) = _new_figure()
    for i, m in enumerate(models):
        c = curves[m.name]["calibration"]
        ax.plot(c["mean_predicted"], c["fraction_positive"], marker="o", color=colours[i % 10], lw=2,
                label=f"{m.name} (ECE {metrics[m.name]['ece']:.3f})")
    ax.plot([0, 1], [0, 1], color="grey", ls="--", lw=1, label="perfectly calibrated")
    _style(ax, "Mean predicted probability (bin)", "Fraction of positives (bin)", "Reliability diagram")
    ax.legend(loc="upper left", fontsize=10)
    written += _save(fig, out_dir, "calibration")

    ncols = min(3, len(models))
    nrows = -(-len(models) // ncols)
    fig, axes = _new_figure(width=4.5 * ncols, height=3.6 * nrows + 0.8, ncols=ncols, nrows=nrows)
    bins = np.linspace(0.0, 1.0, 41)
    for ax, m in zip(axes, models):
        for cls, colour, label in ((0, "tab:blue", "label 0 (background)"), (1, "tab:red", "label 1 (enhancer)")):
            ax.hist(m.p[m.label == cls], bins=bins, color=colour, alpha=0.45, histtype="stepfilled",
                    edgecolor=colour, linewidth=1.2, label=label)
        ax.set_xlabel("Score p", fontsize=12)
        ax.set_ylabel("Sequences", fontsize=12)
        ax.set_title(m.name, fontsize=13)
        ax.set_xlim(0, 1)
        ax.grid(True, alpha=0.3)
    for ax in axes[len(models):]:
        ax.set_visible(False)
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncols=2, fontsize=11)
    fig.suptitle("Score distributions by class", fontsize=13)
    written += _save(fig, out_dir, "score_histograms")
    return written
