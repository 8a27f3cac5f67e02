"""The trained chain as one MLflow model: patches in, trained clusters out.

The shape model, the clustering reference and the model card of a run, logged as an
``mlflow.pyfunc`` model and registered by name (``conf/base/catalog.yml``,
``registered_cluster_model``), so that ``mlflow models`` tools, the MLflow UI and
``mlflow.pyfunc.load_model("models:/cell-clustering/<version>")`` see it. Its
signature comes from the type hints of :meth:`ClusterModel.predict`.

It is a "model from code" (``registry_model.py``) with three file artifacts: the
checkpoint is read with ``torch.load(weights_only=True)``, the reference as Parquet and
the card as JSON, so loading it runs no pickled code.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import mlflow.pyfunc
import numpy as np
import pandas as pd
import pydantic

from cell_clustering import modelling
from cell_clustering.errors import ProjectValueError
from cell_clustering.inference import transfer


class CellPatch(pydantic.BaseModel):
    """One cell: its patch flattened row by row (C × S × S values in [0, 1], as the
    patching pipeline writes them) and its condition (used by the conditional VAE only)."""

    pixels: list[float]
    condition: str = ""


class CellCluster(pydantic.BaseModel):
    """The trained cluster of one cell, its mean distance to its nearest training cells
    and whether that is out of distribution."""

    cluster: int
    distance_to_training: float
    out_of_distribution: bool


class ClusterModel(mlflow.pyfunc.PythonModel):
    """The trained run's clusters (at the reported k) for new cell patches."""

    ARTIFACTS = {"checkpoint": "model.pt", "reference": "clustering_reference.parquet", "card": "model_card.json"}

    def load_context(self, context: mlflow.pyfunc.PythonModelContext) -> None:
        with Path(context.artifacts["checkpoint"]).open("rb") as stream:
            self.checkpoint = modelling.read_torch_file(stream)
        reference = pd.read_parquet(context.artifacts["reference"])
        self.card = json.loads(Path(context.artifacts["card"]).read_text())
        self.latents = transfer.reference_latents(reference)
        self.clusters = reference[f"cluster_k{self.card['clusters']['k']}"].to_numpy()
        self.patch_shape = tuple(int(size) for size in self.card["patch_shape"])

    def predict(self, model_input: list[CellPatch], params: dict[str, Any] | None = None) -> list[CellCluster]:
        expected = int(np.prod(self.patch_shape))
        sizes = {len(cell.pixels) for cell in model_input}
        if sizes - {expected}:
            raise ProjectValueError(f"Each patch must have {expected} values ({self.patch_shape} flattened); got {sorted(sizes)}.")
        patches = np.asarray([cell.pixels for cell in model_input], dtype=np.float32).reshape(-1, *self.patch_shape)
        conditions = np.asarray([cell.condition for cell in model_input])
        latents = modelling.encode(self.checkpoint, patches, conditions)
        options = self.card["transfer"]
        result = transfer.transfer_clusters(
            transfer.Reference(self.latents, self.clusters), latents,
            n_neighbors=options["n_neighbors"], threshold=options["distance_threshold"],
        )
        return [
            CellCluster(cluster=int(c), distance_to_training=float(d), out_of_distribution=bool(o))
            for c, d, o in zip(result.clusters, result.distance, result.out_of_distribution, strict=True)
        ]


def write_artifacts(chain: dict[str, Any], folder: Path) -> dict[str, str]:
    """The chain's ``checkpoint`` / ``reference`` / ``card`` as files in ``folder``:
    MLflow's ``artifacts`` mapping for :class:`ClusterModel`."""
    paths = {name: folder / filename for name, filename in ClusterModel.ARTIFACTS.items()}
    with paths["checkpoint"].open("wb") as stream:
        modelling.write_torch_file(chain["checkpoint"], stream)
    chain["reference"].to_parquet(paths["reference"])
    paths["card"].write_text(json.dumps(chain["card"], indent=2))
    return {name: str(path) for name, path in paths.items()}
