"""Text keys of the operations' texts, which the operations carry themselves (pipelines/ops/).

The tables are made from the registry (pipelines.registry.tables) and merged into the page's
translations by ui/i18n.py. Nothing here imports gradio.
"""

from __future__ import annotations

from pipelines.registry import get_operation


def label_key(operation: str) -> str:
    return f"op.{operation}.label"


def prompt_key(operation: str) -> str:
    """The prompt box's label; operations without one hide the box."""
    return f"op.{operation}.prompt" if get_operation(operation).prompt_label else "input.prompt.label"
