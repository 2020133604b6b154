"""Parameter sharding (PyTorch FSDP2, ``fully_shard``) for the training loop.

Chosen by the launch, not by params.yaml: ``accelerate launch --config_file configs/accelerate/fsdp.yaml``
sets ``ACCELERATE_USE_FSDP`` (and the ``FSDP_*`` settings), and :func:`sharding_plan` turns them into a
:class:`ShardingPlan`. The loop applies ``fully_shard`` itself instead of handing the model to
``Accelerator.prepare``, because

- the LinguaLIFT model calls its parts outside their own ``forward`` (the LLM's input embeddings, the frozen
  encoder for the encoder-output cache), which only works when those parameters belong to the root unit;
- checkpoints and the returned model must hold full (unsharded) tensors, gathered here with ``full_tensor``;
- the same code then runs on CPU (gloo), which is how the tests exercise it; accelerate only enables FSDP on GPUs.

Units: every transformer block of the encoder and the LLM (the ``_no_split_modules`` classes of the Hugging
Face models, or ``fsdp_transformer_layer_cls_to_wrap``) is one unit, the rest of the encoder another; the root
unit holds everything else (LLM embeddings, final norm, ``lm_head``, alignment layer, boundary vectors).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Iterable, Sequence

import torch
from torch import nn


@dataclass(frozen=True)
class ShardingPlan:
    """How to shard: block classes to wrap, whether to free gathered weights after forward, compute dtype."""

    block_classes: tuple[str, ...] = ()  # empty: the models' own _no_split_modules
    reshard_after_forward: bool = True
    param_dtype: torch.dtype | None = None  # None: compute in the stored dtype (fp32 on CPU)


def fsdp_launch() -> bool:
    """True when ``accelerate launch`` was given an FSDP config (it exports ``ACCELERATE_USE_FSDP``)."""
    return os.environ.get("ACCELERATE_USE_FSDP", "false").lower() == "true"


def fsdp_requested(distributed_type: str, num_processes: int) -> bool:
    """True under an FSDP launch: accelerate's FSDP type on GPUs, the launch flag on CPUs (where accelerate
    itself falls back to plain multi-process)."""
    return distributed_type == "FSDP" or (fsdp_launch() and num_processes > 1)


def sharding_plan(bf16: bool) -> ShardingPlan:
    """The plan of the current FSDP launch (the ``FSDP_*`` variables set by ``accelerate launch``); settings
    this loop does not implement are refused by name."""
    from accelerate import FullyShardedDataParallelPlugin

    version = os.environ.get("FSDP_VERSION", "1")  # accelerate's default; checked before its plugin is built
    if version != "2":
        raise ValueError(f"fsdp_config.fsdp_version: got {version}, this loop implements FSDP2; set "
                         "fsdp_version: 2 (see configs/accelerate/fsdp.yaml)")
    policy = os.environ.get("FSDP_AUTO_WRAP_POLICY", "TRANSFORMER_BASED_WRAP").upper()
    if policy != "TRANSFORMER_BASED_WRAP":
        raise ValueError(f"fsdp_config.fsdp_auto_wrap_policy: got {policy}; this loop shards per transformer block, "
                         "set TRANSFORMER_BASED_WRAP")
    plugin = FullyShardedDataParallelPlugin()
    if plugin.activation_checkpointing:
        raise ValueError("fsdp_config.fsdp_activation_checkpointing: got true; set it to false and use "
                         "train.gradient_checkpointing: true in the stage's params.yaml section instead")
    if type(plugin.cpu_offload).__name__ == "CPUOffloadPolicy":
        raise ValueError("fsdp_config.fsdp_offload_params: got true, CPU offload is not supported here; "
                         "set it to false")
    if plugin.cpu_ram_efficient_loading:
        # transformers then loads real weights on local rank 0 only; this loop loads the model on every process
        raise ValueError("fsdp_config.fsdp_cpu_ram_efficient_loading: got true (accelerate's default); set it to "
                         "false (see configs/accelerate/fsdp.yaml)")
    reshard = plugin.reshard_after_forward
    # accelerate splits the list on "," without stripping spaces
    classes = tuple(c.strip() for c in plugin.transformer_cls_names_to_wrap or () if c.strip())
    return ShardingPlan(
        block_classes=classes,
        reshard_after_forward=reshard if isinstance(reshard, bool) else True,
        param_dtype=torch.bfloat16 if bf16 else None,
    )


def block_class_names(model: nn.Module) -> tuple[str, ...]:
    """The transformer-block classes of the Hugging Face models inside ``model`` (their ``_no_split_modules``),
    embeddings excluded (they stay in the root unit, possibly tied to ``lm_head``)."""
    names: set[str] = set()
    for m in model.modules():
        for n in getattr(m, "_no_split_modules", None) or ():
            if "Embedding" not in n:
                names.add(n)
    return tuple(sorted(names))


def shard_model(model: nn.Module, plan: ShardingPlan, device: torch.device,
                own_units: Sequence[nn.Module] = ()) -> list[str]:
    """``fully_shard`` every block of ``plan.block_classes`` (default: :func:`block_class_names`), bottom-up,
    then each of ``own_units`` (modules only called through their own forward), then the root, in place over all
    processes; returns the names of the units. Parameters become ``DTensor``s sharded on dim 0 and move to
    ``device``."""
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.fsdp import MixedPrecisionPolicy, fully_shard

    classes = set(plan.block_classes or block_class_names(model))
    if not classes:
        raise ValueError("FSDP: found no transformer-block classes to shard (no _no_split_modules); name them "
                         "in fsdp_config.fsdp_transformer_layer_cls_to_wrap")
    present = {type(m).__name__ for m in model.modules()}
    missing = sorted(classes - present)
    if plan.block_classes and missing:
        raise ValueError(f"fsdp_config.fsdp_transformer_layer_cls_to_wrap: {missing} not in the model (it has e.g. "
                         f"{block_class_names(model)}); name classes of the model, comma-separated")
    world = torch.distributed.get_world_size()
    mesh = init_device_mesh(device.type, (world,))
    mp = MixedPrecisionPolicy(param_dtype=plan.param_dtype, reduce_dtype=torch.float32 if plan.param_dtype else None)
    names = {id(m): name for name, m in model.named_modules()}
    # reversed (children before parents): nested block classes then form nested units
    units = [m for _, m in reversed(list(model.named_modules())) if type(m).__name__ in classes]
    if not units:
        raise ValueError(f"FSDP: no module of the classes {sorted(classes)} in the model; fix "
                         "fsdp_config.fsdp_transformer_layer_cls_to_wrap")
    units += [m for m in own_units if m is not None]
    for m in units:
        fully_shard(m, mesh=mesh, reshard_after_forward=plan.reshard_after_forward, mp_policy=mp)
    # the root's parameters are used right after its forward starts and again by the loss: keep them gathered
    fully_shard(model, mesh=mesh, reshard_after_forward=False, mp_policy=mp)
    return [names[id(m)] for m in units]


def is_sharded(t: torch.Tensor) -> bool:
    from torch.distributed.tensor import DTensor

    return isinstance(t, DTensor)


def full_tensor(t: torch.Tensor) -> torch.Tensor:
    """The whole tensor of a shard (a collective: every process must call it, in the same order)."""
    return t.full_tensor() if is_sharded(t) else t


def copy_full_(param: torch.Tensor, value: torch.Tensor) -> None:
    """Copies a full tensor into ``param``, or into this process's shard of it."""
    if is_sharded(param):
        from torch.distributed.tensor import distribute_tensor

        # every process holds the same full value: cut the local shard without communication
        shard = distribute_tensor(value.to(param.device, param.dtype), param.device_mesh, param.placements,
                                  src_data_rank=None)
        param.copy_(shard)
    else:
        param.copy_(value.to(param.device, param.dtype))


def like_param(param: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
    """``value`` (full, e.g. an optimizer moment read from a checkpoint) laid out like ``param``."""
    if is_sharded(param):
        from torch.distributed.tensor import distribute_tensor

        return distribute_tensor(value.to(param.device), param.device_mesh, param.placements, src_data_rank=None)
    return value.to(param.device)


def clip_grad_norm_(params: Iterable[torch.Tensor], max_norm: float) -> torch.Tensor:
    """``torch.nn.utils.clip_grad_norm_`` for sharded gradients: the total norm over all shards (a scalar on
    every process), then the same scaling everywhere."""
    params = [p for p in params if p.grad is not None]
    grads = [p.grad for p in params]
    total = torch.nn.utils.get_total_norm(grads, norm_type=2.0)
    if is_sharded(total):
        total = total.full_tensor()
    torch.nn.utils.clip_grads_with_norm_(params, max_norm, total)
    return total
