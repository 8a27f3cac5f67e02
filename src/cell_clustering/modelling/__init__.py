"""Shape models of cell patches and how they are trained (PyTorch, free of Kedro).

``models`` holds one module per model (VAE, conditional VAE, refined VAE) with a
config dataclass each; ``factory`` builds them from the typed ``modelling``
parameters; ``training`` is a plain PyTorch loop. Submodules load on first use
(``lazy_loader.attach``): torch is imported when a node first trains or encodes.
"""

import lazy_loader as lazy

__getattr__, __dir__, __all__ = lazy.attach(
    __name__,
    submodules=["models"],
    submod_attrs={
        "checkpoints": ["read_torch_file", "write_torch_file"],
        "factory": ["build_model", "condition_codes", "encode", "fit_model", "model_config", "model_from_checkpoint"],
        "training": ["TrainingDiverged", "embed", "seed_everything", "split_indices", "train"],
    },
)
