"""The PyTorch side of the benchmarks, as a worker process (see `common.Worker`)."""

from __future__ import annotations

import os
import time

import numpy as np
import torch

from common import serve
from peers import pytorch


def info() -> dict:
    return {"torch": torch.__version__, "threads": torch.get_num_threads(),
            "interop_threads": torch.get_num_interop_threads(), "pid": os.getpid()}


def throughput(model: str, data: str, epochs: int = 2, batch_size: int = 128, threads: int | None = None) -> dict:
    """The model trained on pre-encoded data; seconds of each epoch."""
    if threads:
        torch.set_num_threads(threads)
    torch.manual_seed(0)
    with np.load(data) as arrays:
        x = torch.from_numpy(arrays["x"].astype(np.int64))
        y = torch.from_numpy(arrays["y"].astype(np.float32))
    net, optimizer = pytorch.build(model)
    generator = torch.Generator().manual_seed(0)
    seconds = []
    for _ in range(epochs):
        started = time.perf_counter()
        pytorch.train_epoch(net, optimizer, x, y, batch_size, generator)
        seconds.append(time.perf_counter() - started)
    params = sum(p.numel() for p in net.parameters())
    return {"epoch_seconds": seconds, "samples": int(len(x)), "params": int(params),
            "threads": torch.get_num_threads()}


if __name__ == "__main__":
    serve({"info": info, "throughput": throughput})
