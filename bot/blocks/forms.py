"""Pieces of Slack modal forms: inputs, options, reading values back, and notes under a
field (for problems found after the acknowledgement)."""

from __future__ import annotations

from typing import Any

from bot.blocks.common import CONTEXT_TEXT_MAX, Block, context, fit, plain


def option(value: str, text: str) -> dict[str, Any]:
    return {"text": plain(text), "value": value}


def input_block(block_id: str, label: str, element: dict[str, Any], *, optional: bool = False,
           hint: str | None = None, dispatch: bool = False) -> Block:
    block: Block = {"type": "input", "block_id": block_id, "label": plain(label),
                    "element": {"action_id": block_id, **element}, "optional": optional}
    if hint:
        block["hint"] = plain(hint)
    if dispatch:
        block["dispatch_action"] = True
    return block


def option_for(options: list[dict[str, Any]], value: str) -> dict[str, Any]:
    return next((option for option in options if option["value"] == value), options[0])


def note_under(blocks: list[Block], block_id: str, message: str) -> None:
    """An error shown under its field (the block right after it), or at the top."""
    note = context(f":warning: {fit(message, CONTEXT_TEXT_MAX - 10)}")
    position = next((index + 1 for index, block in enumerate(blocks)
                     if block.get("block_id") == block_id), 1)
    blocks.insert(position, note)


def value_of(values: dict[str, Any], block_id: str) -> dict[str, Any]:
    element: dict[str, Any] = values.get(block_id, {}).get(block_id, {})
    return element


def selected(values: dict[str, Any], block_id: str) -> str | None:
    picked = value_of(values, block_id).get("selected_option") or {}
    value = picked.get("value")
    return value if isinstance(value, str) else None
