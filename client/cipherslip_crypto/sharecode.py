"""Share codes: ``XXXX-XXXX-XXXX``, 12 Crockford base32 symbols carrying 60 random bits.

Input is forgiving the way Crockford intended (case-insensitive, ``O``→0, ``I``/``L``→1,
hyphens and spaces ignored); output is always the canonical upper-case grouped form.
"""

from __future__ import annotations

from cipherslip_crypto.errors import InvalidShareCode
from cipherslip_crypto.randomness import RandomSource

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
SYMBOLS = 12
_ALIASES = {"O": "0", "I": "1", "L": "1"}


def share_code_from_bits(bits: int) -> str:
    if not 0 <= bits < 1 << (5 * SYMBOLS):
        raise ValueError("a share code carries exactly 60 bits")
    symbols = [ALPHABET[(bits >> (5 * (SYMBOLS - 1 - i))) & 31] for i in range(SYMBOLS)]
    return "-".join("".join(symbols[i : i + 4]) for i in range(0, SYMBOLS, 4))


def generate_share_code(random: RandomSource) -> str:
    bits = int.from_bytes(random.token_bytes(8), "big") >> 4
    return share_code_from_bits(bits)


def normalize_share_code(text: str) -> str:
    """Canonical form of user input, or :class:`InvalidShareCode` naming the problem."""
    compact = "".join(ch for ch in text.upper() if ch not in "- ")
    compact = "".join(_ALIASES.get(ch, ch) for ch in compact)
    if len(compact) != SYMBOLS:
        raise InvalidShareCode(
            f"a share code has {SYMBOLS} symbols (XXXX-XXXX-XXXX), got {len(compact)}",
            field="share_code",
        )
    bad = sorted({ch for ch in compact if ch not in ALPHABET})
    if bad:
        raise InvalidShareCode(
            f"a share code uses Crockford base32; not allowed: {''.join(bad)!r}",
            field="share_code",
        )
    return "-".join(compact[i : i + 4] for i in range(0, SYMBOLS, 4))


def share_code_bits(code: str) -> int:
    bits = 0
    for ch in normalize_share_code(code).replace("-", ""):
        bits = (bits << 5) | ALPHABET.index(ch)
    return bits
