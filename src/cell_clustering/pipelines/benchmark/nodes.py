"""Nodes of the ``benchmark`` pipeline: the models of ``modelling`` and the
clustering of ``evaluation`` on MNIST-like datasets, one grid cell at a time."""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np
import pandas as pd

from cell_clustering.plotting import pyplot

logger = logging.getLogger(__name__)

SCORE_COLUMNS = ["accuracy", "nmi", "ari", "silhouette", "davies_bouldin", "calinski_harabasz"]


def prepare_benchmark_split(images: np.ndarray, labels: np.ndarray, max_samples: int | None = None) -> tuple[np.ndarray, pd.DataFrame]:
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
        images, labels = images[: int(max_samples)], labels[: int(max_samples)]
    patches = (images.astype(np.float32) / 255.0)[:, None]
    metadata = pd.DataFrame({"field": "benchmark", "condition": labels.astype(int).astype(str), "cell_label": np.arange(len(labels))})
    return patches, metadata


def _modelling_params(params: dict[str, Any], model_type: str, latent_dim: int, beta: float) -> dict[str, Any]:
    return {
        "model_type": model_type,
        "model": {**params["model"], "latent_dim": int(latent_dim), "beta": float(beta)},
        "training": params["training"],
        "on_divergence": "raise",
    }


def _one_hot(metadata: pd.DataFrame) -> np.ndarray:
    classes = sorted(metadata["condition"].unique())
    codes = metadata["condition"].map({name: code for code, name in enumerate(classes)}).to_numpy()
    return np.eye(len(classes), dtype=np.float32)[codes]


def _score_heads(representation: np.ndarray, metadata: pd.DataFrame, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Every head of ``params["heads"]`` (``kmeans``, ``gmm``, ``umap_kmeans``,
    ``umap_gmm``) through the evaluation pipeline's ``cluster_latents`` node, with
    k = the number of classes. Internal scores are computed in the clustered space."""
    from cell_clustering.clustering import umap_embedding
    from cell_clustering.pipelines.evaluation.nodes import cluster_latents

    evaluation = params["evaluation"]
    n_classes = metadata["condition"].nunique()
    spaces: dict[str, np.ndarray] = {"": representation}
    rows = []
    for head in params["heads"]:
        reduce, _, method = head.rpartition("_")
        if reduce not in ("", "umap"):
            raise ValueError(f"benchmark.heads: unknown head '{head}'; use kmeans, gmm, umap_kmeans or umap_gmm.")
        if reduce not in spaces:  # one UMAP per representation, shared by its heads
            spaces[reduce] = umap_embedding(
                representation, evaluation["umap"]["n_components"], evaluation["umap"]["n_neighbors"], evaluation["seed"]
            )
        head_params = {**evaluation, "method": method, "n_clusters": [n_classes], "reduce": {"method": "none"}, "label_column": "condition"}
        _, table, _ = cluster_latents(spaces[reduce], metadata, head_params)
        rows.append({"head": head, **table.iloc[0][SCORE_COLUMNS].to_dict()})
    return rows


def train_and_score(
    train_patches: np.ndarray,
    train_metadata: pd.DataFrame,
    test_patches: np.ndarray,
    test_metadata: pd.DataFrame,
    params: dict[str, Any],
    model_type: str,
    latent_dim: int,
    beta: float,
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
    from cell_clustering.pipelines.modelling.nodes import encode_patches, train_model

    start = time.perf_counter()
    checkpoint, history = train_model(train_patches, train_metadata, _modelling_params(params, model_type, latent_dim, beta))
    train_seconds = time.perf_counter() - start
    latents = encode_patches(checkpoint, test_patches, test_metadata)
    representations = {"z": latents}
    if model_type == "cvae":
        representations["z_condition"] = np.hstack([latents, _one_hot(test_metadata)])
    scores = [
        {"representation": name, "label_informed": name != "z", **row}
        for name, representation in representations.items()
        for row in _score_heads(representation, test_metadata, params)
    ]
    epochs = len(history["train_total"])
    logger.info("%s z%d beta=%g: %d epochs in %.0f s; %s", model_type, latent_dim, beta, epochs, train_seconds, scores)
    return {
        "model": model_type,
        "latent_dim": int(latent_dim),
        "beta": float(beta),
        "train_seconds": train_seconds,
        "epochs": epochs,
        "history": {name: [point["value"] for point in points] for name, points in history.items()},
        "scores": scores,
    }


def run_benchmark_grid(
    train_patches: np.ndarray,
    train_metadata: pd.DataFrame,
    test_patches: np.ndarray,
    test_metadata: pd.DataFrame,
    params: dict[str, Any],
) -> list[dict[str, Any]]:
    """One :func:`train_and_score` per model in ``params["models"]`` × latent size in
    ``params["latent_dims"]``, at ``params["model"]["beta"]``."""
    return [
        train_and_score(train_patches, train_metadata, test_patches, test_metadata, params, model_type, latent_dim, params["model"]["beta"])
        for model_type in params["models"]
        for latent_dim in params["latent_dims"]
    ]


def run_beta_sweep(
    train_patches: np.ndarray,
    train_metadata: pd.DataFrame,
    test_patches: np.ndarray,
    test_metadata: pd.DataFrame,
    params: dict[str, Any],
) -> list[dict[str, Any]]:
    """One :func:`train_and_score` per β of ``params["beta_sweep"]["betas"]`` for the
    model and latent size named there."""
    sweep = params["beta_sweep"]
    return [
        train_and_score(train_patches, train_metadata, test_patches, test_metadata, params, sweep["model"], sweep["latent_dim"], beta)
        for beta in sweep["betas"]
    ]


def _flatten(records: list[dict[str, Any]], dataset: str) -> pd.DataFrame:
    rows = [
        {"dataset": dataset, **{key: record[key] for key in ("model", "latent_dim", "beta")}, **score,
         "epochs": record["epochs"], "train_seconds": round(record["train_seconds"], 1)}
        for record in records
        for score in record["scores"]
    ]
    return pd.DataFrame(rows)


def _mlflow_runs(records: list[dict[str, Any]], dataset: str, prefix: str) -> list[dict[str, Any]]:
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


def _markdown(table: pd.DataFrame) -> str:
    """A Markdown table with 3 decimals (4 significant digits for CH)."""
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


def summarise_benchmark(params: dict[str, Any], **grids: list[dict[str, Any]]) -> tuple[pd.DataFrame, str, list[dict[str, Any]]]:
    """The benchmark table (one row per dataset × model × latent size × representation
    × head), as CSV and Markdown laid out like the seed's, and one MLflow run per cell.

    Parameters
    ----------
    params : dict
        ``benchmark`` parameters (the heads and training budget, for the caption).
    **grids
        ``<dataset name>=`` the records of :func:`run_benchmark_grid`.
    """
    table = pd.concat([_flatten(records, name) for name, records in grids.items()], ignore_index=True)
    unsupervised = table[~table["label_informed"]]
    best = unsupervised.loc[unsupervised.groupby("dataset")["accuracy"].idxmax()]
    lines = [
        "# Clustering benchmark on the 10k test images (k = 10)",
        "",
        f"Training: {params['training']['epochs']} epochs at most, batch {params['training']['batch_size']}, "
        f"on {params.get('max_train_samples') or 'all'} training images. Heads: {', '.join(params['heads'])}. "
        "Silhouette, DB and CH are computed in the space that was clustered (the latent, or its UMAP). "
        "Rows with `label_informed = True` (cVAE, Z ⊕ one-hot class) see the answer and are not unsupervised.",
        "",
        "## Seed layout: KMeans on the latent",
        "",
        _markdown(table[table["head"] == "kmeans"].drop(columns=["head"])),
        "",
        "## Best unsupervised head per dataset",
        "",
        _markdown(best),
        "",
        "## Every cell of the grid",
        "",
        _markdown(table),
        "",
    ]
    runs = [run for name, records in grids.items() for run in _mlflow_runs(records, name, "")]
    return table, "\n".join(lines), runs


def summarise_beta_sweep(params: dict[str, Any], **sweeps: list[dict[str, Any]]) -> tuple[pd.DataFrame, Any, list[dict[str, Any]]]:
    """The β sweep as a table, a figure (accuracy and final KL against β) and MLflow runs.

    ``**sweeps``: ``<dataset name>=`` the records of :func:`run_beta_sweep` (one dataset).
    """
    (dataset, records), = sweeps.items()
    table = _flatten(records, dataset)
    table["final_kl"] = table["beta"].map({record["beta"]: record["history"]["train_kl"][-1] for record in records})
    plt = pyplot()
    figure, (accuracy_axis, kl_axis) = plt.subplots(1, 2, figsize=(9, 3.5))
    for (representation, head), rows in table.groupby(["representation", "head"]):
        accuracy_axis.plot(rows["beta"], rows["accuracy"], marker="o", label=f"{representation}, {head}")
    accuracy_axis.set(xscale="log", xlabel="β", ylabel="accuracy (Hungarian)", title=f"{dataset}: clustering accuracy vs β")
    accuracy_axis.legend(fontsize=7)
    per_beta = table.drop_duplicates("beta")
    kl_axis.plot(per_beta["beta"], per_beta["final_kl"], marker="o")
    kl_axis.set(xscale="log", xlabel="β", ylabel="KL per sample (nats)", title="KL of the last epoch")
    figure.tight_layout()
    return table, figure, _mlflow_runs(records, dataset, "beta-sweep-")
