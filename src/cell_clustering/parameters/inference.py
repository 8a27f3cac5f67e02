"""``inference``: new fields put into the clusters of a trained run (no training)."""

from __future__ import annotations

from pydantic import Field

from cell_clustering.parameters.base import Params


class InferenceParams(Params):
    """The ``inference`` block (``conf/base/parameters_inference.yml``).

    ``new_plate_folder`` and ``new_plate_map`` are read by the catalog
    (``--params inference.new_plate_folder=<folder>``); they are declared here so that
    the parameter check knows them.
    """

    new_plate_folder: str | None = None  # read by the catalog from --params only
    new_plate_map: str | None = None
    new_plate_masks: str | None = None  # optional ground truth (demo fields): label masks
    new_plate_ground_truth: str | None = None  # and the folder of the planted cells' table
    n_neighbors: int = Field(15, ge=1)  # training cells that vote on a new cell's cluster
    ood_quantile: float = Field(0.99, gt=0, le=1)  # of the training cells' own neighbour distances
    pixel_size_tolerance: float = Field(0.05, ge=0)  # relative; beyond it a field is refused
