"""Cipherslip's formats (docs/FORMATS.md): the CSL1 stream, sealed metadata, key transport,
key checks, share codes and base64url — byte-compatible with the browser's ``web/js/lib``.

Pure: it needs only ``cryptography``. The server (``core``) and the ``slip`` CLI both use it,
so a secret the CLI encrypts is the same bytes a browser would have made.
"""
