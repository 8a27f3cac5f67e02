"""The code of the registered MLflow model (MLflow's "models from code"): see ``registry``."""

import mlflow.models

from cell_clustering.inference.registry import ClusterModel

mlflow.models.set_model(ClusterModel())
