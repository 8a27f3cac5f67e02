"""How the reported head was chosen: clustering heads on the latents of the development
demo seed, over shape-model seeds × clustering seeds.

    .venv/bin/python benchmarks/heads.py [--seed 7] [--model-seeds 0 1 2] [--k 5]
        [--env domain_b] [--params "modelling.invariances.scale=0.4"]
        [--data-params "patching.window_um=62.4"] [--cache DIR]
        [--directions 6] [--pair protrusive ruffled] [--heads "(default)"]

A temporary copy of the project gets the demo data of ``--seed`` (7, the development
seed: never a reported one), runs the default pipeline up to the shape model for the
first model seed and the modelling pipeline alone for every further one, and clusters
each model's latents (standardised, as the evaluation does) with every head of
``HEADS`` for clustering seeds 0, 1, 2. Printed: shape ACC at k, mean ± sd over model
seeds × clustering seeds and the mean per model seed. ``--cache`` keeps each model's latents in DIR and
reuses them on the next call (a new head costs no training). ``--directions n`` also
prints, per model seed, the n leading principal directions of the standardised latents:
their share of the variance and how much of it lies between the planted shapes (η²).
``--pair a b`` also prints, per model seed, a 5-fold linear probe between the planted
shapes a and b and the variance of the standardised latents along its direction.
``--heads`` keeps the heads whose name contains its text. Asserts nothing.
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from representations import latest
from scaling import kedro, make_project
from scipy.special import xlogy
from sklearn.cluster import AgglomerativeClustering, SpectralClustering
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.mixture import GaussianMixture
from sklearn.model_selection import cross_val_score
from sklearn.neighbors import NearestNeighbors
from sklearn.preprocessing import normalize

from cell_clustering.evaluation import (
    UNMATCHED,
    candidate_seeds,
    consensus_choice,
    gaussian_mixture,
    hungarian_accuracy,
    principal_components,
    shape_classes_of,
    standardise,
    umap_embedding,
)
from cell_clustering.parameters.evaluation import GmmParams

Head = Callable[[np.ndarray, int, int], np.ndarray]


def umap_medoid(candidates: int) -> Head:
    """UMAP-8 (n_neighbors 30) + GMM from 10 starts, medoid of ``candidates`` fits."""

    def head(values: np.ndarray, k: int, seed: int) -> np.ndarray:
        fits = [gaussian_mixture(umap_embedding(values, 8, 30, s, 0.0), k, s, 10) for s in candidate_seeds(seed, candidates)]
        return fits[consensus_choice(fits)[0]]

    return head


def mixture(n_init: int, reg_covar: float) -> Head:
    return lambda values, k, seed: gaussian_mixture(values, k, seed, n_init, reg_covar=reg_covar)


def whitened(share: float, head: Head) -> Head:
    """``head`` on the principal components that hold ``share`` of the variance, each
    scaled to variance 1: the covariance floor then weighs the same in every kept
    direction, a thin one that separates two shapes included."""
    return lambda values, k, seed: head(standardise(principal_components(values, share)), k, seed)


def tied_mixture(n_init: int, reg_covar: float) -> Head:
    """One covariance shared by every component: no component can become a thin
    sliver around a few cells."""

    def head(values: np.ndarray, k: int, seed: int) -> np.ndarray:
        mixture = GaussianMixture(k, covariance_type="tied", n_init=n_init, random_state=seed, reg_covar=reg_covar)
        return mixture.fit_predict(values)

    return head


def on_the_sphere(head: Head) -> Head:
    """``head`` on the latents scaled to unit length first (the contrastive loss
    compares directions, not lengths), then standardised again."""
    return lambda values, k, seed: head(standardise(normalize(values)), k, seed)


def nearest_of_each(values: np.ndarray, n_neighbors: int) -> np.ndarray:
    """Indices (N, ``n_neighbors``) of each row's nearest rows of ``values`` (N, D), itself first."""
    return NearestNeighbors(n_neighbors=n_neighbors).fit(values).kneighbors(values, return_distance=False)


def neighbour_mean(n_neighbors: int, head: Head) -> Head:
    """``head`` on each cell's latents averaged with those of its ``n_neighbors`` - 1
    nearest neighbours, standardised again: one step of a low-pass filter on the k-NN
    graph (as SGC / AGC smooth node features before clustering), which pulls a cell
    towards the shape its neighbourhood agrees on."""

    def smoothed(values: np.ndarray, k: int, seed: int) -> np.ndarray:
        return head(standardise(values[nearest_of_each(values, n_neighbors)].mean(axis=1)), k, seed)

    return smoothed


def principal(share: float, head: Head) -> Head:
    """``head`` on the principal components that hold ``share`` of the variance (the
    thin directions dropped instead of floored)."""
    return lambda values, k, seed: head(principal_components(values, share), k, seed)


def scan_loss(probabilities: torch.Tensor, partners: torch.Tensor, entropy_weight: float) -> torch.Tensor:
    """SCAN's loss per head (Van Gansbeke et al. 2020): -log <p_i, p_j> for a neighbour j,
    minus ``entropy_weight`` × the entropy of the mean assignment. ``probabilities``
    (N, heads, k), ``partners`` (N,) or (N, M) neighbour indices; returns (heads,)."""
    pairs = probabilities[partners] * (probabilities if partners.ndim == 1 else probabilities[:, None])
    consistency = -torch.log(pairs.sum(-1).clamp_min(1e-8)).flatten(0, partners.ndim - 1).mean(0)
    mean = probabilities.mean(0).clamp_min(1e-8)
    return consistency + entropy_weight * (mean * mean.log()).sum(-1)


def scan(n_neighbors: int = 20, entropy_weight: float = 5.0, heads: int = 10, steps: int = 300) -> Head:
    """SCAN's clustering step on the frozen latents: ``heads`` linear softmax heads trained
    full-batch (Adam, lr 0.01) to agree with a random one of each cell's ``n_neighbors``
    nearest neighbours; the head of lowest loss over all neighbours is kept."""

    def head(values: np.ndarray, k: int, seed: int) -> np.ndarray:
        generator = torch.Generator().manual_seed(seed)
        torch.manual_seed(seed)
        cells = torch.tensor(values, dtype=torch.float32)
        nearest = torch.tensor(nearest_of_each(values, n_neighbors + 1)[:, 1:])
        linear = torch.nn.Linear(cells.shape[1], heads * k)
        optimiser = torch.optim.Adam(linear.parameters(), lr=0.01)
        rows = torch.arange(len(cells))

        def assignments() -> torch.Tensor:  # (N, heads, k) soft assignments of every head
            return torch.softmax(linear(cells).view(len(cells), heads, k), -1)

        for _ in range(steps):
            partners = nearest[rows, torch.randint(0, n_neighbors, (len(cells),), generator=generator)]
            loss = scan_loss(assignments(), partners, entropy_weight).sum()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        with torch.no_grad():
            probabilities = assignments()
            best = int(scan_loss(probabilities, nearest, entropy_weight).argmin())
        return probabilities[:, best].argmax(-1).numpy()

    return head


def merge_by_entropy(posteriors: np.ndarray, k: int) -> np.ndarray:
    """Labels (N,) from the component posteriors (N, K) of a mixture with K >= k
    components, merged pairwise until k remain, each time the pair whose merge lowers
    the entropy of the assignment most (Baudry et al. 2010, "Combining mixture
    components for clustering"): components that share their cells become one cluster,
    so a class that is not Gaussian (a wide size range) may take several of them."""
    groups = posteriors.astype(np.float64)
    while groups.shape[1] > k:
        plogp = xlogy(groups, groups)
        best, gain = (0, 1), -np.inf
        for a in range(groups.shape[1]):
            for b in range(a + 1, groups.shape[1]):
                joined = groups[:, a] + groups[:, b]
                change = (xlogy(joined, joined) - plogp[:, a] - plogp[:, b]).sum()
                if change > gain:
                    best, gain = (a, b), change
        a, b = best
        groups[:, a] += groups[:, b]
        groups = np.delete(groups, b, axis=1)
    return groups.argmax(axis=1)


def merged_mixture(extra: int, share: float = 0.95, n_init: int = 30, reg_covar: float = 0.1) -> Head:
    """The default head with ``extra`` more components, merged back to k by entropy."""

    def head(values: np.ndarray, k: int, seed: int) -> np.ndarray:
        reduced = principal_components(values, share)
        mixture = GaussianMixture(k + extra, covariance_type="full", n_init=n_init, random_state=seed, reg_covar=reg_covar)
        return merge_by_entropy(mixture.fit(reduced).predict_proba(reduced), k)

    return head


def ward(values: np.ndarray, k: int, seed: int) -> np.ndarray:
    return AgglomerativeClustering(n_clusters=k, linkage="ward").fit_predict(values)


def spectral(values: np.ndarray, k: int, seed: int) -> np.ndarray:
    """Spectral clustering of the 15-nearest-neighbour graph (no Gaussian shape assumed)."""
    graph = SpectralClustering(n_clusters=k, affinity="nearest_neighbors", n_neighbors=15, random_state=seed)
    return graph.fit_predict(values)


# The evaluation's own default, so the row marked "(default)" cannot go stale.
DEFAULT_GMM = GmmParams()
DEFAULT_NAME = f"PCA {DEFAULT_GMM.variance_share:.0%}, GMM, {DEFAULT_GMM.n_init} starts, floor {DEFAULT_GMM.reg_covar}"
DEFAULT_HEAD = principal(DEFAULT_GMM.variance_share, mixture(DEFAULT_GMM.n_init, DEFAULT_GMM.reg_covar))

HEADS: dict[str, Head] = {
    "GMM, 10 starts, no floor": mixture(10, 1e-6),
    "GMM, 10 starts, floor 0.01": mixture(10, 0.01),
    "GMM, 10 starts, floor 0.03": mixture(10, 0.03),
    "GMM, 10 starts, floor 0.1": mixture(10, 0.1),
    "GMM, 30 starts, floor 0.03 (the default until commit 3e398e3)": mixture(30, 0.03),
    "GMM, 30 starts, floor 0.1 (the default until the PCA step)": mixture(30, 0.1),
    "GMM, 100 starts, floor 0.03": mixture(100, 0.03),
    "unit length, GMM, 30 starts, floor 0.03": on_the_sphere(mixture(30, 0.03)),
    "10-NN mean, GMM, 30 starts, floor 0.1": neighbour_mean(10, mixture(30, 0.1)),
    "15-NN mean, GMM, 30 starts, floor 0.1": neighbour_mean(15, mixture(30, 0.1)),
    f"{DEFAULT_NAME} (default)": DEFAULT_HEAD,
    f"unit length, {DEFAULT_NAME}": on_the_sphere(DEFAULT_HEAD),
    "SCAN head, 20-NN, entropy weight 5": scan(),
    "Ward": ward,
    "spectral, 15-NN graph": spectral,
    "UMAP-8 + GMM, medoid of 3": umap_medoid(3),
    "PCA 95 %, GMM, 30 starts, floor 0.2": principal(0.95, mixture(30, 0.2)),
    "PCA 95 %, GMM, 30 starts, floor 0.3": principal(0.95, mixture(30, 0.3)),
    "PCA 95 %, GMM, 30 starts, floor 0.5": principal(0.95, mixture(30, 0.5)),
    "PCA 90 %, GMM, 30 starts, floor 0.1": principal(0.90, mixture(30, 0.1)),
    "PCA 99 %, GMM, 30 starts, floor 0.1": principal(0.99, mixture(30, 0.1)),
    "PCA 95 %, tied GMM, 30 starts, floor 0.1": principal(0.95, tied_mixture(30, 0.1)),
    "PCA 95 % whitened, GMM, 30 starts, floor 0.1": whitened(0.95, mixture(30, 0.1)),
    "PCA 95 % whitened, GMM, 30 starts, floor 0.3": whitened(0.95, mixture(30, 0.3)),
    "PCA 90 % whitened, GMM, 30 starts, floor 0.1": whitened(0.90, mixture(30, 0.1)),
    "PCA 90 % whitened, GMM, 30 starts, floor 0.3": whitened(0.90, mixture(30, 0.3)),
    "PCA 95 %, GMM k+1 merged by entropy": merged_mixture(1),
    "PCA 95 %, GMM k+2 merged by entropy": merged_mixture(2),
    "PCA 95 %, GMM k+3 merged by entropy": merged_mixture(3),
    "PCA 95 %, GMM k+5 merged by entropy": merged_mixture(5),
}


def overrides_of(args: argparse.Namespace) -> list[str]:
    """The ``--data-params`` and ``--params`` given, in that order: what makes these
    latents other than the defaults' (their cache key and the table's title)."""
    return [overrides for overrides in (args.data_params, args.params) if overrides]


def latents_per_model_seed(project: Path, args: argparse.Namespace) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """(latents, planted shape per cell) of every model seed, on the same cells; read
    from ``args.cache`` where an earlier call left them."""
    cache = Path(args.cache) if args.cache else None
    env = f"--env={args.env}"
    key = "_".join(overrides_of(args)).replace(",", "_") or "defaults"
    out = {}
    for index, model_seed in enumerate(args.model_seeds):
        name = f"{args.env}-{args.seed}-{key}-{model_seed}.npz"
        stored = cache / name if cache else None
        if stored and stored.exists():
            with np.load(stored, allow_pickle=True) as saved:
                out[model_seed] = (saved["latents"], saved["shapes"])
            continue
        if not (project / "data" / "05_model_input").exists():
            kedro(project, "--pipelines=demo_data", env, f"--params=demo_data.seed={args.seed}")
            data_params = [f"--params={args.data_params}"] if args.data_params else []
            kedro(project, "--pipelines=preprocessing,segmentation,patching", env, *data_params)
        overrides = ",".join([*([args.params] if args.params else []), f"modelling.training.seed={model_seed}"])
        kedro(project, "--pipelines=modelling", env, f"--params={overrides}")
        latents = np.load(latest(project, "latents.npy", layer="07_model_output"))
        truth = pd.read_csv(latest(project, "patch_truth.csv", layer="05_model_input"))
        out[model_seed] = (latents, shape_classes_of(truth, len(latents)))
        if cache:
            cache.mkdir(parents=True, exist_ok=True)
            # Written under another name first: a run killed mid-write leaves no file
            # that the next call would read as a finished cache entry.
            partial = stored.with_suffix(".partial.npz")
            np.savez(partial, latents=out[model_seed][0], shapes=out[model_seed][1])
            partial.replace(stored)
    return out


def shape_accuracy(shapes: np.ndarray, clusters: np.ndarray) -> float:
    """Hungarian accuracy over the cells matched to a planted cell, as the evaluation scores it."""
    matched = shapes != UNMATCHED
    return hungarian_accuracy(shapes[matched], clusters[matched])


def shape_share(component: np.ndarray, shapes: np.ndarray) -> float:
    """η²: the share of ``component``'s variance (N,) between the planted shapes, over
    the matched cells (1: the direction separates shapes only; 0: not at all)."""
    matched = shapes != UNMATCHED
    values, classes = component[matched], shapes[matched]
    between = sum((classes == c).sum() * (values[classes == c].mean() - values.mean()) ** 2 for c in np.unique(classes))
    return float(between / (values.var() * len(values)))


def print_directions(runs: dict[int, tuple[np.ndarray, np.ndarray]], n_directions: int) -> None:
    """Per model seed: the leading principal directions of the standardised latents,
    each with its share of the variance and the share of its variance between shapes."""
    print(f"\n| model seed | leading {n_directions} principal directions: variance share (η² by shape) |\n|---|---|")
    for model_seed, (latents, shapes) in runs.items():
        pca = PCA(n_components=n_directions)
        components = pca.fit_transform(standardise(latents))
        cells = " · ".join(f"{share:.2f} ({shape_share(components[:, i], shapes):.2f})"
                           for i, share in enumerate(pca.explained_variance_ratio_))
        print(f"| {model_seed} | {cells} |", flush=True)


def print_pair(runs: dict[int, tuple[np.ndarray, np.ndarray]], pair: list[str]) -> None:
    """Per model seed: how well a linear classifier tells the two planted shapes of
    ``pair`` apart (5-fold logistic regression on their cells only), and the variance of
    the standardised latents (D in all) along its unit normal: a distinction the latents
    carry in a thin direction is one a mixture fitted to all cells can miss."""
    known = sorted(set(np.unique(next(iter(runs.values()))[1])) - {UNMATCHED})
    if not set(pair) <= set(known):
        raise SystemExit(f"--pair {' '.join(pair)}: name two of the planted shapes {known}.")
    print(f"\n| model seed | {pair[0]} / {pair[1]}: 5-fold probe | variance along its direction (of D) |\n|---|---|---|")
    for model_seed, (latents, shapes) in runs.items():
        values, chosen = standardise(latents), np.isin(shapes, pair)
        probe = cross_val_score(LogisticRegression(max_iter=2000), values[chosen], shapes[chosen], cv=5).mean()
        normal = LogisticRegression(max_iter=2000).fit(values[chosen], shapes[chosen]).coef_[0]
        spread = (values @ (normal / np.linalg.norm(normal))).var()
        print(f"| {model_seed} | {probe:.3f} | {spread:.2f} (of {values.shape[1]}) |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=7, help="the demo seed (7: the development seed)")
    parser.add_argument("--model-seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--k", type=int, default=5, help="the number of planted shapes")
    parser.add_argument("--env", default="base", help="configuration environment (domain_b: the second domain)")
    parser.add_argument("--params", default=None, help="passed to `kedro run --params` of the shape model")
    parser.add_argument("--data-params", default=None, help="passed to `kedro run --params` of the cells' patching run")
    parser.add_argument("--cache", default=None, help="a folder that keeps each model's latents")
    parser.add_argument("--directions", type=int, default=0, help="also print this many principal directions per model")
    parser.add_argument("--pair", nargs=2, default=None, help="also print how the latents separate these two planted shapes")
    parser.add_argument("--heads", default="", help="only the heads whose name contains this text")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="heads-") as folder:
        runs = latents_per_model_seed(make_project(Path(folder)), args)
    settings = ", ".join(overrides_of(args)) or "default parameters"
    print(f"\n## {args.env}, demo seed {args.seed}, {len(next(iter(runs.values()))[0])} cells, {settings}: shape ACC at k = {args.k}")
    if args.directions:
        print_directions(runs, args.directions)
    if args.pair:
        print_pair(runs, args.pair)
    print("| head | mean ± sd over model × clustering seeds | per model seed |\n|---|---|---|")
    for name, head in HEADS.items():
        if args.heads not in name:
            continue
        scores = np.array([[shape_accuracy(shapes, head(standardise(latents), args.k, s)) for s in (0, 1, 2)]
                           for latents, shapes in runs.values()])
        per_model = " / ".join(f"{value:.3f}" for value in scores.mean(axis=1))
        print(f"| {name} | {scores.mean():.3f} ± {scores.std():.3f} | {per_model} |", flush=True)


if __name__ == "__main__":
    main()
