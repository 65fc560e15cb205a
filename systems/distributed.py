"""torchrun awareness shared by training and inference: who am I, and which device is mine."""
from __future__ import annotations

import os

import torch.distributed as dist


def shard_info(device: str = "cpu") -> tuple[int, int]:
    """(rank, world size) of a torchrun job, or (0, 1) outside one. The process group is set up
    here on first use: NCCL for CUDA devices, gloo otherwise.

    Args:
        device: the device the job runs on ("cpu", "cuda", "cuda:1"); picks the backend.

    Returns:
        (rank, world size): the process group's when it is set up, else (0, 1).
    """
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if device.startswith("cuda") else "gloo")
    return (dist.get_rank(), dist.get_world_size()) if dist.is_initialized() else (0, 1)


def local_device(device: str) -> str:
    """Under torchrun, a bare "cuda" means this process's own GPU (cuda:LOCAL_RANK), so that N
    ranks on one machine do not all land on GPU 0. Anything else is returned unchanged.

    Args:
        device: the device asked for.

    Returns:
        `cuda:<LOCAL_RANK>` for "cuda" when WORLD_SIZE > 1, else `device`.
    """
    if device == "cuda" and int(os.environ.get("WORLD_SIZE", "1")) > 1:
        return f"cuda:{int(os.environ.get('LOCAL_RANK', '0'))}"
    return device
