"""Lineage of a run's outputs: which input versions each one was made from, and a
check that the inputs of a node belong together.

Every versioned output gets a record beside its data (written atomically with it,
see :mod:`cell_clustering.datasets.atomic`): the node that made it and ``upstream``,
the version of every dataset it depends on, directly or through its inputs. An
unversioned input (the raw images, a user's folder) is identified by a fingerprint
of its files' names, sizes and modification times.

Before a node runs, the upstream maps of its inputs are merged with the inputs' own
versions: a dataset seen at two versions means that the inputs come from different
runs (masks of older images, latents of another model) and the node stops with a
:class:`LineageMismatch` naming the datasets and the pipeline to re-run. Upstream also
holds ``node:<name>`` → the run that executed that node, so two outputs of one node
written by different runs (a run killed between saving them) conflict too.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any

from kedro.io.core import (
    AbstractVersionedDataset,
    VersionNotFoundError,
    get_filepath_str,
)

from cell_clustering.datasets.atomic import lineage_path
from cell_clustering.errors import ProjectValueError

NODE_PREFIX = "node:"


class LineageMismatch(ProjectValueError):
    """Inputs of one node made from different versions of the same dataset."""


def _protocol(dataset: Any) -> str:
    return getattr(dataset, "_protocol", "file")


def version_of(dataset: Any) -> str | None:
    """The version a dataset loads: its Kedro version if versioned, else a fingerprint
    of its file or folder; None for in-memory and parameter datasets."""
    if isinstance(dataset, AbstractVersionedDataset) and getattr(dataset, "_version", None):
        try:
            return dataset.resolve_load_version()
        except VersionNotFoundError:
            return None
    fs = getattr(dataset, "_fs", None) or getattr(dataset, "_filesystem", None)
    path = getattr(dataset, "_normalized_path", None) or getattr(dataset, "_filepath", None)
    if fs is None or path is None:
        return None
    return fingerprint(fs, str(path))


def fingerprint(fs: Any, path: str) -> str | None:
    """``files:<sha1>`` of the names, sizes and mtimes under ``path`` (None if absent)."""
    if not fs.exists(path):
        return None
    entries = fs.find(path, detail=True) if fs.isdir(path) else {path: fs.info(path)}
    # Names relative to ``path``: a project folder copied or moved keeps its lineage.
    root = path.rstrip("/")
    listing = sorted(
        (name.removeprefix(root), info.get("size"), info.get("mtime") or info.get("created")) for name, info in entries.items()
    )
    return "files:" + hashlib.sha1(json.dumps(listing, default=str).encode()).hexdigest()[:16]


def stored_record(dataset: Any) -> dict[str, Any] | None:
    """The lineage record saved with the version a versioned dataset loads, if any."""
    if not (isinstance(dataset, AbstractVersionedDataset) and getattr(dataset, "_version", None)):
        return None
    try:
        path = lineage_path(PurePosixPath(dataset._get_load_path()))
    except VersionNotFoundError:
        return None
    fs = getattr(dataset, "_fs", None)
    location = get_filepath_str(path, _protocol(dataset))
    if fs is None or not fs.exists(location):
        return None
    with fs.open(location, "r") as stream:
        return json.load(stream)


def merge_upstream(inputs: Mapping[str, tuple[str | None, Mapping[str, str]]]) -> dict[str, dict[str, set[str]]]:
    """For every upstream dataset, the versions the inputs claim, and by whom.

    ``inputs``: name → (its version, its recorded upstream map).
    """
    claims: dict[str, dict[str, set[str]]] = {}
    for name, (version, upstream) in inputs.items():
        if version is not None:
            claims.setdefault(name, {}).setdefault(version, set()).add(name)
        for dependency, dependency_version in upstream.items():
            claims.setdefault(dependency, {}).setdefault(dependency_version, set()).add(name)
    return claims


def conflicts(claims: Mapping[str, Mapping[str, set[str]]]) -> dict[str, Mapping[str, set[str]]]:
    """The upstream datasets claimed at more than one version."""
    return {name: versions for name, versions in claims.items() if len(versions) > 1}


def stale_inputs(found: Mapping[str, Mapping[str, set[str]]], made_in: Mapping[str, str | None]) -> set[str]:
    """The inputs caught in a conflict that were made by an older run than the newest
    input caught with them (run ids are timestamps); inputs nobody made (raw data)
    are never stale."""
    involved = {user for versions in found.values() for users in versions.values() for user in users}
    runs = {name: made_in.get(name) for name in involved if made_in.get(name)}
    newest = max(runs.values(), default=None)
    return {name for name, run in runs.items() if run != newest}


def _describe(dependency: str, versions: Mapping[str, set[str]]) -> str:
    if dependency.startswith(NODE_PREFIX):
        parts = [f"{', '.join(sorted(users))} in run {version}" for version, users in sorted(versions.items())]
        return f"  - node '{dependency.removeprefix(NODE_PREFIX)}' made " + "; ".join(parts)
    parts = []
    for version, users in sorted(versions.items()):
        made = sorted(user for user in users if user != dependency)
        if dependency in users:
            parts.append(f"{version} is the one loaded here")
        if made:
            parts.append(f"{', '.join(made)} {'was' if len(made) == 1 else 'were'} made from {version}")
    return f"  - {dependency}: " + "; ".join(parts)


def mismatch_message(
    node: str, found: Mapping[str, Mapping[str, set[str]]], made_in: Mapping[str, str | None], producers: Mapping[str, str]
) -> str:
    """What does not belong together, and which pipelines to re-run.

    ``made_in`` maps each input to the run that made it; ``producers`` a dataset to
    the pipeline that makes it.
    """
    datasets = {name: versions for name, versions in found.items() if not name.startswith(NODE_PREFIX)}
    lines = [f"The inputs of node '{node}' come from different runs:"]
    lines += [_describe(name, versions) for name, versions in sorted((datasets or found).items())]
    to_rerun = {producers[name] for name in stale_inputs(found, made_in) if name in producers}
    commands = " then ".join(f"`kedro run --pipelines={name}`" for name in sorted(to_rerun, key=_stage_order)) or "`kedro run`"
    lines.append(f"Re-run {commands} to make them from the same data (or `kedro run` for every stage). Nothing was mixed.")
    return "\n".join(lines)


STAGES = ("demo_data", "preprocessing", "segmentation", "patching", "modelling", "evaluation")


def _stage_order(pipeline: str) -> int:
    return STAGES.index(pipeline) if pipeline in STAGES else len(STAGES)


def record(node: str, run_id: str, inputs: Mapping[str, tuple[str | None, Mapping[str, str]]]) -> dict[str, Any]:
    """The lineage record of an output of ``node``: its direct inputs and every
    upstream version (checked consistent before the node ran), with the run that
    executed this node and the upstream nodes."""
    upstream: dict[str, str] = {}
    for name, (version, dependencies) in inputs.items():
        upstream.update(dependencies)
        if version is not None:
            upstream[name] = version
    upstream[f"{NODE_PREFIX}{node}"] = run_id
    return {"node": node, "run_id": run_id, "inputs": {name: version for name, (version, _) in inputs.items()}, "upstream": upstream}
