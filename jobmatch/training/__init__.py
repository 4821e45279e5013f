"""Two-stage fine-tuning of the bi-encoder: contrastive learning on rule-derived pairs with
hard-negative mining (stage 1), and the pair-regression recipe it grows from."""
