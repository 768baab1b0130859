"""``python -m vault``: serve the vault with settings from ``CIPHERSLIP_*`` variables.

Equivalent to ``uvicorn --factory vault.app:app_from_env`` except that a refusal to start
(weak token, unusable master key, missing KMS key id) is one clear line and exit status 2
instead of a traceback.
"""

from __future__ import annotations

import argparse
import sys

import uvicorn
from pydantic import ValidationError

from core.errors import CipherslipError
from vault.app import app_from_env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vault", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on")
    parser.add_argument("--port", type=int, default=8100, help="TCP port to listen on")
    parser.add_argument("--workers", type=int, default=1,
                        help="worker processes (the vault keeps no state: any number works)")
    arguments = parser.parse_args(argv)
    if arguments.workers < 1:
        print("cipherslip vault refuses to start: --workers must be at least 1", file=sys.stderr)
        return 2
    try:
        # Built here even with workers (which build their own): a refusal is one line, now.
        app = app_from_env()
    except (CipherslipError, ValidationError) as exc:
        reason = exc.message if isinstance(exc, CipherslipError) else str(exc)
        print(f"cipherslip vault refuses to start: {reason}", file=sys.stderr)
        return 2
    uvicorn.run(
        app if arguments.workers == 1 else "vault.app:app_from_env",
        factory=arguments.workers > 1,
        workers=arguments.workers,
        host=arguments.host,
        port=arguments.port,
        # The app configured logging and writes its own access log.
        log_config=None,
        access_log=False,
        server_header=False,
        # The api keeps its connections to the vault open between calls: longer than 5 s.
        timeout_keep_alive=75,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
