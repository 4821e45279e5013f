"""Train only the top transformer layers of a sentence-transformers model.

Freezing the embeddings and the lower layers keeps what they learnt in stage 1 exactly (an
anchor, like retention, but in weights rather than in the loss), and autograd then skips
their backward pass, so a step costs less.
"""

from __future__ import annotations

from typing import Any

import torch

from jobmatch.errors import ModelError

STACK_NAMES = {"layer", "layers"}


def transformer_layers(model: Any) -> torch.nn.ModuleList:
    """The stack of transformer blocks inside a SentenceTransformer's first module.

    Found as the longest `ModuleList` named `layer` or `layers` (BERT, RoBERTa, MPNet,
    DistilBERT, most encoders), so no architecture needs listing here.

    Raises:
        ModelError: the first module holds no such stack.
    """
    stacks = [
        module
        for name, module in model[0].named_modules()
        if isinstance(module, torch.nn.ModuleList) and name.rsplit(".", 1)[-1] in STACK_NAMES
    ]
    if not stacks:
        raise ModelError(f"no transformer layer stack found in {type(model[0]).__name__}")
    return max(stacks, key=len)


def train_top_layers(model: Any, layers: int) -> int:
    """Freeze the first module except its top `layers` blocks; modules after it (pooling,
    dense heads) stay trainable. Returns the number of trainable parameters.

    Raises:
        ModelError: `layers` is below 1 or above the model's depth.
    """
    stack = transformer_layers(model)
    if not 1 <= layers <= len(stack):
        raise ModelError(f"the model has {len(stack)} layers; cannot train the top {layers}")
    model[0].requires_grad_(False)
    for block in stack[len(stack) - layers :]:
        block.requires_grad_(True)
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
