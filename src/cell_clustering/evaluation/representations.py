"""The representations compared in every evaluation run: the learned latents and two
honest baselines on the same cells, the morphology table patching already writes
and the raw patch pixels reduced with PCA.

Morphology features are standardised, over all cells or (as image-profiling tools
such as pycytominer do) against the control condition, so that each feature reads
"how many control standard deviations away".
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA

# The per-cell descriptors of the patching pipeline's morphology table.
MORPHOLOGY_FEATURES = (
    "area", "perimeter", "major_axis_length", "minor_axis_length", "eccentricity", "solidity",
    "extent", "mean_intensity", "aspect_ratio", "angle_to_grooves_deg", "orientation",
)


def morphology(
    metadata: pd.DataFrame, *, features: tuple[str, ...] = MORPHOLOGY_FEATURES, normalise: str = "all", control: str | None = None
) -> np.ndarray:
    """(N, F) standardised morphology features.

    Parameters
    ----------
    metadata : pandas.DataFrame
        One row per cell with the feature columns.
    normalise : {"all", "control"}
        Centre and scale with all cells, or with the cells of ``control`` only.
    """
    missing = [name for name in features if name not in metadata]
    if missing:
        raise ValueError(f"The patch metadata lacks the morphology features {missing}; re-run patching.")
    values = metadata[list(features)].to_numpy(dtype=np.float64)
    reference = values
    if normalise == "control":
        is_control = (metadata["condition"] == control).to_numpy()
        if is_control.sum() < 2:
            raise ValueError(f"evaluation.morphology.normalise is 'control' but the data has {int(is_control.sum())} cells of {control!r}.")
        reference = values[is_control]
    return standardise(values, reference=reference)


def pixels_pca(patches: np.ndarray, *, n_components: int = 10, seed: int = 0) -> np.ndarray:
    """(N, n_components) PCA of the flattened patches (N, C, S, S)."""
    flat = patches.reshape(len(patches), -1).astype(np.float64)
    n_components = min(n_components, *flat.shape)
    return PCA(n_components=n_components, random_state=seed).fit_transform(flat).astype(np.float32)


def standardise(values: np.ndarray, *, reference: np.ndarray | None = None) -> np.ndarray:
    """Centre and scale each column of ``values`` (N, D) by the mean and standard
    deviation of ``reference`` (default: ``values`` itself); constant columns are
    only centred."""
    reference = values if reference is None else reference
    scale = reference.std(axis=0)
    return ((values - reference.mean(axis=0)) / np.where(scale > 0, scale, 1.0)).astype(np.float32)
