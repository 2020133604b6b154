"""lingualift_core.train: the training loop shared by stage 1, stage 2 and mono-SFT.

API::

    from lingualift_core.train import train, stage1_config, stage2_config, mono_sft_config, reconstruction_recall
    result = train(model, records, stage1_config(micro_batch_size=8), checkpoint_dir=..., resume="latest",
                   on_step=lambda step, total, m: ...)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lingualift_core._lazy import lazy_exports

if TYPE_CHECKING:  # what type checkers see; at run time each name is imported on first use
    from .checkpoint import ConfigMismatchError, latest_checkpoint, list_checkpoints
    from .config import TrainConfig, mono_sft_config, stage1_config, stage2_config
    from .data import epoch_global_batches, micro_batches, padding_waste, plan_padding_waste
    from .evaluation import reconstruction_recall, token_recall
    from .loop import TrainResult, apply_trainable, lr_lambda_factory, train

__all__ = [
    "ConfigMismatchError",
    "TrainConfig",
    "TrainResult",
    "apply_trainable",
    "epoch_global_batches",
    "latest_checkpoint",
    "list_checkpoints",
    "lr_lambda_factory",
    "micro_batches",
    "mono_sft_config",
    "padding_waste",
    "plan_padding_waste",
    "reconstruction_recall",
    "stage1_config",
    "stage2_config",
    "token_recall",
    "train",
]

__getattr__, __dir__ = lazy_exports(__name__, {
    "ConfigMismatchError": ".checkpoint", "latest_checkpoint": ".checkpoint", "list_checkpoints": ".checkpoint",
    "TrainConfig": ".config", "mono_sft_config": ".config", "stage1_config": ".config", "stage2_config": ".config",
    "epoch_global_batches": ".data", "micro_batches": ".data", "padding_waste": ".data", "plan_padding_waste": ".data",
    "reconstruction_recall": ".evaluation", "token_recall": ".evaluation",
    "TrainResult": ".loop", "apply_trainable": ".loop", "lr_lambda_factory": ".loop", "train": ".loop",
})
