"""``DaskRunner``: the runner of Kedro's deployment guide for Dask, made to keep
this project's MLflow tracking.

Usage::

    kedro run --runner=cell_clustering.runner.DaskRunner --env dask

Each node is submitted to a ``distributed`` cluster as soon as the nodes it depends
on are done. The scheduler address comes from ``--runner-params
client_args.address=...``, else from ``compute.scheduler_address`` in the
parameters of the run's environment (``conf/dask/``), else a local cluster is
started for the run.

What happens to hooks (and so to MLflow): the session calls the pipeline hooks
(``before_pipeline_run``: kedro-mlflow opens the run) in this process, but nodes
run on workers, where Kedro's guide builds a fresh hook manager from
``settings.HOOKS`` and plugin entry points. A fresh kedro-mlflow hook has not seen
the run, so this runner (1) logs each node's parameters here, through the
session's hooks, before submitting it, (2) registers on the workers the project's
hooks but not kedro-mlflow's, and (3) resumes the driver's MLflow run on the worker
so that metric datasets and the artifact hook write into it.
"""

from __future__ import annotations

from collections import Counter
from itertools import chain
from pathlib import Path
from typing import Any

import mlflow
from distributed import Client, as_completed, get_client, worker_client
from kedro.framework import project
from kedro.framework.hooks.manager import (
    _create_hook_manager,
    _register_hooks,
    _register_hooks_entry_points,
)
from kedro.io import AbstractDataset, CatalogProtocol, MemoryDataset
from kedro.pipeline import Pipeline
from kedro.pipeline.node import Node
from kedro.runner import AbstractRunner, SequentialRunner
from pluggy import PluginManager

from cell_clustering.hooks import LineageHook


class _DaskDataset(AbstractDataset):
    """Holds a node output on the Dask scheduler instead of in one worker's memory,
    so that a node on another worker can read it (from Kedro's earlier Dask guide)."""

    def __init__(self, name: str) -> None:
        self._name = name

    def load(self) -> Any:
        return get_client().get_dataset(self._name)

    def save(self, data: Any) -> None:
        with worker_client() as client:
            client.publish_dataset(data, name=self._name, override=True)

    def _exists(self) -> bool:
        return self._name in get_client().list_datasets()

    def _release(self) -> None:
        get_client().unpublish_dataset(self._name)

    def _describe(self) -> dict[str, Any]:
        return {"name": self._name}


def _absolute_tracking_uri(uri: str) -> str:
    """Workers run in another folder: ``sqlite:///mlflow.db`` must name the driver's file."""
    prefix = "sqlite:///"
    if uri.startswith(prefix) and not uri[len(prefix):].startswith("/"):
        return prefix + str(Path(uri[len(prefix):]).resolve())
    return uri


def _resume_mlflow_run(tracking_uri: str | None, run_id: str | None) -> None:
    if not run_id:
        return
    mlflow.set_tracking_uri(tracking_uri)
    active = mlflow.active_run()
    if active is not None and active.info.run_id == run_id:
        return
    if active is not None:
        mlflow.end_run()
    mlflow.start_run(run_id=run_id)


def _log_parameters(hook_manager: PluginManager, node: Node, catalog: CatalogProtocol, is_async: bool, run_id: str | None) -> None:
    """Let kedro-mlflow's ``before_node_run`` log a node's parameters, here on the
    driver. The lineage hook is left out: it checks the inputs on the worker, once
    they exist (nodes are submitted before their inputs are made)."""
    params = {name: catalog.load(name) for name in node.inputs if name.startswith("params:")}
    if not params:
        return
    lineage_hooks = [hook for hook in hook_manager.get_plugins() if isinstance(hook, LineageHook)]
    for hook in lineage_hooks:
        hook_manager.unregister(hook)
    try:
        hook_manager.hook.before_node_run(node=node, catalog=catalog, inputs=params, is_async=is_async, run_id=run_id)
    finally:
        for hook in lineage_hooks:
            hook_manager.register(hook)


class DaskRunner(AbstractRunner):
    """Distribute the nodes of a pipeline across a Dask cluster, respecting their
    dependencies (Kedro deployment guide, "Dask")."""

    def __init__(self, client_args: dict[str, Any] | None = None, is_async: bool = False) -> None:
        super().__init__(is_async=is_async)
        self._client_args = dict(client_args or {})

    def _get_executor(self, max_workers: int) -> None:
        """Unused: ``_run`` submits to the Dask client instead of an executor."""
        return None

    @staticmethod
    def _run_node(
        node: Node,
        catalog: CatalogProtocol,
        package_name: str | None,
        mlflow_run: tuple[str | None, str | None],
        is_async: bool = False,
        run_id: str | None = None,
        *dependencies: Node,
    ) -> Node:
        """Run one node on a worker, with the project's hooks and the driver's MLflow run.

        ``dependencies`` are the futures of upstream nodes: Dask waits for them.
        """
        if package_name and project.PACKAGE_NAME != package_name:
            project.configure_project(package_name)  # a fresh worker process knows no project
        settings = project.settings
        _resume_mlflow_run(*mlflow_run)
        hook_manager = _create_hook_manager()
        _register_hooks(hook_manager, settings.HOOKS)
        # kedro-mlflow's hook keeps the run state of the driver: leave it out here.
        # (Matched against the distribution name, spelt with an underscore.)
        _register_hooks_entry_points(hook_manager, (*settings.DISABLE_HOOKS_FOR_PLUGINS, "kedro_mlflow"))
        for hook in settings.HOOKS:
            if hasattr(hook, "after_catalog_created"):
                hook.after_catalog_created(catalog=catalog)
            if isinstance(hook, LineageHook):
                hook.resume_run(run_id or "", catalog)
        SequentialRunner(is_async=is_async).run(Pipeline([node]), catalog, hook_manager, run_id)
        return node

    def _address(self, catalog: CatalogProtocol) -> str | None:
        if "address" in self._client_args:
            return self._client_args["address"]
        if "params:compute" in catalog:
            return catalog.load("params:compute").scheduler_address
        return None

    def _run(
        self,
        pipeline: Pipeline,
        catalog: CatalogProtocol,
        hook_manager: PluginManager | None = None,
        run_id: str | None = None,
    ) -> None:
        address = self._address(catalog)
        client_args = {**self._client_args, "address": address} if address else {**self._client_args}
        client = Client(**client_args)
        try:
            # Intermediate in-memory datasets must be reachable from every worker.
            for name in pipeline.datasets():
                if not name.startswith("params:") and isinstance(catalog.get(name), MemoryDataset) and name not in pipeline.inputs():
                    catalog[name] = _DaskDataset(name)
            active = mlflow.active_run()
            mlflow_run = (_absolute_tracking_uri(mlflow.get_tracking_uri()), active.info.run_id if active else None)

            nodes = pipeline.nodes
            load_counts = Counter(chain.from_iterable(n.inputs for n in nodes))
            node_dependencies = pipeline.node_dependencies
            node_futures = {}
            for node in nodes:
                if hook_manager is not None:
                    _log_parameters(hook_manager, node, catalog, self._is_async, run_id)
                dependencies = (node_futures[dependency] for dependency in node_dependencies[node])
                node_futures[node] = client.submit(
                    DaskRunner._run_node, node, catalog, project.PACKAGE_NAME, mlflow_run, self._is_async, run_id, *dependencies,
                    key=f"kedro-node-{node.name}-{run_id or ''}", pure=False,
                )
            for index, (_, node) in enumerate(as_completed(node_futures.values(), with_results=True)):
                self._logger.info("Completed node: %s", node.name)
                self._logger.info("Completed %d out of %d tasks", index + 1, len(nodes))
                for dataset in node.inputs:
                    load_counts[dataset] -= 1
                    if load_counts[dataset] < 1 and dataset not in pipeline.inputs():
                        catalog.release(dataset)
                for dataset in node.outputs:
                    if load_counts[dataset] < 1 and dataset not in pipeline.outputs():
                        catalog.release(dataset)
        finally:
            client.close()
