"""The seed's MNIST / FashionMNIST clustering benchmark, with the project's own
models (:mod:`cell_clustering.modelling`) and heads (:mod:`cell_clustering.evaluation`).

Each grid cell trains one model on the training split and clusters its latents of
the test split with every head, with k = the number of classes.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np
import pandas as pd

from cell_clustering import evaluation, modelling
from cell_clustering.parameters import BenchmarkParams, ModellingParams
from cell_clustering.parameters.benchmark import BenchmarkEvaluationParams
from cell_clustering.parameters.modelling import (
    InvarianceParams,
    ModelParams,
    VAEParams,
)

logger = logging.getLogger(__name__)

SCORE_COLUMNS = ["accuracy", "nmi", "ari", "silhouette", "davies_bouldin", "calinski_harabasz"]


def prepare_split(images: np.ndarray, labels: np.ndarray, max_samples: int | None = None) -> tuple[np.ndarray, pd.DataFrame]:
    """Images as model input and a metadata table in the patching pipeline's layout.

    Parameters
    ----------
    images : (N, rows, cols) uint8 ndarray
    labels : (N,) integer ndarray
    max_samples : int, optional
        Keep only the first ``max_samples`` (quick configurations); None keeps all.

    Returns
    -------
    patches : (M, 1, rows, cols) float32 ndarray in [0, 1]
    metadata : pandas.DataFrame
        ``field`` ("benchmark"), ``condition`` (the class label as text: what the
        cVAE is conditioned on and what accuracy is scored against) and ``cell_label``
        (the sample index).
    """
    if images.ndim != 3 or len(images) != len(labels):
        raise ValueError(f"Benchmark images must be (N, rows, cols) with one label each; got {images.shape} and {labels.shape}.")
    if max_samples is not None:
        images, labels = images[:max_samples], labels[:max_samples]
    patches = (images.astype(np.float32) / 255.0)[:, None]
    metadata = pd.DataFrame({"field": "benchmark", "condition": labels.astype(int).astype(str), "cell_label": np.arange(len(labels))})
    return patches, metadata


def modelling_params(
    params: BenchmarkParams, model_type: str, latent_dim: int, beta: float, invariances: InvarianceParams | None = None
) -> ModellingParams:
    """The ``modelling`` parameters of one grid cell (validated like the block itself),
    with the dataset's ``invariances``; a diverging benchmark model fails the run rather
    than being scored."""
    vae = VAEParams(**{**params.vae.model_dump(), "beta": beta})
    return ModellingParams(
        model_type=model_type, model=ModelParams(latent_dim=latent_dim), vae=vae, contrastive=params.contrastive,
        invariances=invariances or InvarianceParams(), training=params.training, on_divergence="raise",
    )


def one_hot(classes: pd.Series) -> np.ndarray:
    """(N, n_classes) float32 one-hot of the sorted class names."""
    names = sorted(classes.unique())
    codes = classes.map({name: code for code, name in enumerate(names)}).to_numpy()
    return np.eye(len(names), dtype=np.float32)[codes]


def _head_space(head: str, representation: np.ndarray, settings: BenchmarkEvaluationParams) -> np.ndarray:
    """The space a head clusters: the representation (``kmeans``), its standardised
    copy on the principal components of ``gmm.variance_share`` (``gmm``, as the cells'
    reported head) or its UMAP (``umap_*``)."""
    if head == "gmm":
        return evaluation.principal_components(evaluation.standardise(representation), settings.gmm.variance_share)
    if head.startswith("umap_"):
        return evaluation.umap_embedding(representation, settings.umap.n_components, settings.umap.n_neighbors, settings.seed)
    return representation


def score_heads(representation: np.ndarray, classes: np.ndarray, params: BenchmarkParams) -> list[dict[str, Any]]:
    """Every head of ``params.heads`` with k = the number of classes. Internal scores are
    computed in the clustered space (the representation, its standardised copy or its
    UMAP). ``gmm`` is the cells' reported head: many starts and a covariance floor
    (``evaluation.gmm``)."""
    settings, n_classes = params.evaluation, len(np.unique(classes))
    spaces: dict[str, np.ndarray] = {}
    rows = []
    for head in params.heads:
        key = "umap" if head.startswith("umap_") else head  # one UMAP per representation, shared by its heads
        if key not in spaces:
            spaces[key] = _head_space(head, representation, settings)
        method = head.removeprefix("umap_")
        if head == "gmm":
            clusters = evaluation.cluster(spaces[key], n_classes, method, settings.seed, settings.gmm.n_init, reg_covar=settings.gmm.reg_covar)
        else:
            clusters = evaluation.cluster(spaces[key], n_classes, method, settings.seed, settings.n_init)
        scores = evaluation.score(spaces[key], clusters, classes, None)
        rows.append({"head": head, **{name: scores[name] for name in SCORE_COLUMNS}})
    return rows


def train_and_score(
    train_split: tuple[np.ndarray, pd.DataFrame],
    test_split: tuple[np.ndarray, pd.DataFrame],
    params: BenchmarkParams,
    model_type: str,
    latent_dim: int,
    beta: float,
    invariances: InvarianceParams | None = None,
) -> dict[str, Any]:
    """Train one model on the training split and score its test-set latents.

    The conditional VAE is conditioned on the class label: its Z is scored alone,
    and as Z ⊕ one-hot(class) ("z_condition"), which carries the label by construction
    and is therefore *not* an unsupervised result.

    Returns
    -------
    dict
        ``model``, ``latent_dim``, ``beta``, ``train_seconds``, ``epochs``, ``history``
        (per-epoch losses) and ``scores`` (one dict per representation × head).
    """
    (train_patches, train_metadata), (test_patches, test_metadata) = train_split, test_split
    start = time.perf_counter()
    checkpoint, history = modelling.fit_model(
        train_patches, train_metadata["condition"].to_numpy(), modelling_params(params, model_type, latent_dim, beta, invariances)
    )
    train_seconds = time.perf_counter() - start
    latents = modelling.encode(checkpoint, test_patches, test_metadata["condition"].to_numpy())
    representations = {"z": latents}
    if model_type == "cvae":
        representations["z_condition"] = np.hstack([latents, one_hot(test_metadata["condition"])])
    classes = test_metadata["condition"].to_numpy()
    scores = [
        {"representation": name, "label_informed": name != "z", **row}
        for name, representation in representations.items()
        for row in score_heads(representation, classes, params)
    ]
    epochs = len(history["train_total"])
    logger.info("%s z%d beta=%g: %d epochs in %.0f s; %s", model_type, latent_dim, beta, epochs, train_seconds, scores)
    return {
        "model": model_type, "latent_dim": latent_dim, "beta": beta, "train_seconds": train_seconds,
        "epochs": epochs, "history": history, "scores": scores,
    }


def flatten(records: list[dict[str, Any]], dataset: str) -> pd.DataFrame:
    """One row per record × score."""
    rows = [
        {"dataset": dataset, **{key: record[key] for key in ("model", "latent_dim", "beta")}, **score,
         "epochs": record["epochs"], "train_seconds": round(record["train_seconds"], 1)}
        for record in records
        for score in record["scores"]
    ]
    return pd.DataFrame(rows)


def mlflow_runs(records: list[dict[str, Any]], dataset: str, prefix: str) -> list[dict[str, Any]]:
    """One nested MLflow run per trained model: its params, per-epoch losses and the
    scores of every representation × head (``<representation>.<head>.<metric>``)."""
    runs = []
    for record in records:
        metrics = {
            f"{score['representation']}.{score['head']}.{name}": float(score[name])
            for score in record["scores"]
            for name in SCORE_COLUMNS
            if np.isfinite(score[name])
        }
        metrics["train_seconds"] = float(record["train_seconds"])
        runs.append({
            "run_name": f"{prefix}{dataset}-{record['model']}-z{record['latent_dim']}-beta{record['beta']:g}",
            "params": {"dataset": dataset, "model": record["model"], "latent_dim": record["latent_dim"],
                       "beta": record["beta"], "epochs": record["epochs"]},
            "metrics": metrics,
            "histories": record["history"],
            "tags": {"cell_clustering.benchmark": prefix.rstrip("-") or "grid"},
        })
    return runs


def markdown(table: pd.DataFrame) -> str:
    """A Markdown table with 3 decimals (one for CH)."""
    shown = table.copy()
    for column in shown.columns:
        if column == "calinski_harabasz":
            shown[column] = shown[column].map(lambda value: f"{value:.1f}")
        elif shown[column].dtype.kind == "f" and column not in ("beta", "train_seconds"):
            shown[column] = shown[column].map(lambda value: f"{value:.3f}")
    header = "| " + " | ".join(shown.columns) + " |"
    rule = "|" + "|".join("---" for _ in shown.columns) + "|"
    body = ["| " + " | ".join(str(value) for value in row) + " |" for row in shown.itertuples(index=False)]
    return "\n".join([header, rule, *body])


def benchmark_markdown(table: pd.DataFrame, params: BenchmarkParams) -> str:
    """The seed's layout (KMeans on the latent), the best unsupervised head per
    dataset (never a label-informed row) and every cell of the grid."""
    unsupervised = table[~table["label_informed"]]
    best = unsupervised.loc[unsupervised.groupby("dataset")["accuracy"].idxmax()]
    lines = [
        "# Clustering benchmark on the 10k test images (k = 10)",
        "",
        f"Training: {params.training.epochs} epochs at most, batch {params.training.batch_size}, "
        f"on {params.max_train_samples or 'all'} training images. Heads: {', '.join(params.heads)}. "
        "Silhouette, DB and CH are computed in the space that was clustered (the latent, its standardised copy for gmm, or its UMAP). "
        "Rows with `label_informed = True` (cVAE, Z ⊕ one-hot class) see the answer and are not unsupervised.",
        "",
        "## Seed layout: KMeans on the latent",
        "",
        markdown(table[table["head"] == "kmeans"].drop(columns=["head"])),
        "",
        "## Best unsupervised head per dataset",
        "",
        markdown(best),
        "",
        "## Every cell of the grid",
        "",
        markdown(table),
        "",
    ]
    return "\n".join(lines)
