"""jobmatch: match job descriptions to talent with a bi-encoder, FAISS and rule-based labels."""

from __future__ import annotations

__version__ = "0.1.0"
