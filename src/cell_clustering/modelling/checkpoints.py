"""Files of torch tensors: model checkpoints and Cellpose CPnet weights.

Read with ``weights_only=True``: a file from elsewhere cannot run code on load.
"""

from __future__ import annotations

from typing import Any, BinaryIO

import torch


def read_torch_file(stream: BinaryIO) -> Any:
    """The object saved in ``stream``, tensors on the CPU."""
    return torch.load(stream, map_location="cpu", weights_only=True)


def write_torch_file(data: Any, stream: BinaryIO) -> None:
    """``torch.save`` of ``data`` (plain containers of tensors and Python values)."""
    torch.save(data, stream)
