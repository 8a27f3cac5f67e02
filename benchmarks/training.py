"""Training throughput: samples per second through the modelling node and through a
bare PyTorch loop with the same model, data and hyperparameters.

    .venv/bin/python benchmarks/training.py [--epochs N] [--patches PATH]

Uses the latest patches of data/05_model_input (run `make demo` first), or random
patches of the demo size if there are none. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import yaml

from cell_clustering import modelling
from cell_clustering.parameters import ModellingParams
from cell_clustering.pipelines.modelling.nodes import train_model

ROOT = Path(__file__).resolve().parents[1]


def load_patches(path: Path | None) -> tuple[np.ndarray, pd.DataFrame]:
    versions = sorted(ROOT.glob("data/05_model_input/patches.npy/*/patches.npy"))
    if path is None and versions:
        path = versions[-1]
    if path is None:
        rng = np.random.default_rng(0)
        patches = rng.uniform(size=(320, 1, 64, 64)).astype(np.float32)
        return patches, pd.DataFrame({"condition": np.array(["control", "Rac1"])[np.arange(320) % 2]})
    metadata = pd.read_csv(path.parents[2] / "patch_metadata.csv" / path.parent.name / "patch_metadata.csv")
    return np.load(path), metadata


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--patches", type=Path, default=None)
    args = parser.parse_args()

    raw = yaml.safe_load((ROOT / "conf/base/parameters_modelling.yml").read_text())["modelling"]
    # Same work on both sides: fixed epochs, no early stop, no validation pass.
    raw["training"].update(epochs=args.epochs, early_stopping_patience=None, validation_fraction=0.0, progress_bar=False)
    params = ModellingParams.model_validate(raw)
    patches, metadata = load_patches(args.patches)
    n_samples = len(patches) * args.epochs
    print(f"{params.model_type}: {len(patches)} patches of {patches.shape[-1]}×{patches.shape[-1]}, {args.epochs} epochs")

    # Warm-up: the first epochs in a process pay one-off costs (allocator, kernels);
    # they would otherwise be charged to whichever path runs first.
    train_model(patches, metadata, params.model_copy(update={"training": params.training.model_copy(update={"epochs": 1})}))

    start = time.perf_counter()
    train_model(patches, metadata, params)
    node_seconds = time.perf_counter() - start

    conditions = sorted(metadata["condition"].unique())
    codes = torch.as_tensor(metadata["condition"].map({c: i for i, c in enumerate(conditions)}).to_numpy().copy())
    torch.manual_seed(params.training.seed)
    config = modelling.model_config(params, patch_size=patches.shape[-1], in_channels=patches.shape[1], n_conditions=len(conditions))
    model = modelling.build_model(params.model_type, config)
    optimiser = torch.optim.AdamW(model.parameters(), lr=params.training.learning_rate, weight_decay=params.training.weight_decay)
    data = torch.as_tensor(patches)
    batch = params.training.batch_size
    start = time.perf_counter()
    model.train()
    for _ in range(args.epochs):
        order = torch.randperm(len(data))
        for index in order.split(batch):
            loss = model.loss(data[index], codes[index]).total
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    bare_seconds = time.perf_counter() - start

    print(f"modelling node: {n_samples / node_seconds:8.1f} samples/s ({node_seconds:.2f} s, incl. model build and checkpoint)")
    print(f"bare PyTorch:   {n_samples / bare_seconds:8.1f} samples/s ({bare_seconds:.2f} s)")
    print(f"overhead ratio node / bare: {node_seconds / bare_seconds:.3f} (goal <= 1.10)")


if __name__ == "__main__":
    main()
