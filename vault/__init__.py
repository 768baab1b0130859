"""The vault: a separate process with key custody only (docs/ARCHITECTURE.md).

It is the only Cipherslip process with KMS rights. It makes data keys, unwraps stored ones,
and hands them out only HPKE-sealed to a browser's public key, so the api relays opaque bytes.
"""
