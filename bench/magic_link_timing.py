"""Does "Email me a sign-in link" take the same time for recipients and everyone else?

Runs the real stack on loopback (api, vault, OpenID provider, SMTP server), creates an
external secret, then times requests for a recipient and for a non-recipient, interleaved,
once with the response floor off and once with the configured floor. Prints median, p90 and
spread per group and the median gap: without the floor the gap shows whether mail was sent;
with it the groups should be indistinguishable.

    .venv/bin/python -m bench.magic_link_timing [--samples 15] [--floor 1.0]
"""

from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import time
from pathlib import Path

from tests.support.client import BrowserLikeClient
from tests.support.databases import sqlite_database
from tests.support.idp import oidc_provider
from tests.support.stack import running_stack, vault_server

RECIPIENT = "guest@partner.test"
OUTSIDER = "outsider@partner.test"


def measure(floor: float, samples: int, directory: Path) -> dict[str, list[float]]:
    limits = {"magic_link_rate_per_email": 10_000, "magic_link_rate_per_ip": 10_000,
              "magic_link_response_seconds": floor}
    with oidc_provider() as idp, vault_server(directory / "vault") as vault, \
            sqlite_database(directory) as database_url, \
            running_stack(data_dir=directory, database_url=database_url, discovery_url=idp,
                          vault=vault, **limits) as stack:
        alice = stack.user("alice@example.com")
        link = alice.create_text("x", [RECIPIENT], audience="external", view_limit=None)
        visitor = BrowserLikeClient(stack.base_url, OUTSIDER)
        times: dict[str, list[float]] = {RECIPIENT: [], OUTSIDER: []}
        for round_number in range(samples + 2):
            for email in (RECIPIENT, OUTSIDER) if round_number % 2 else (OUTSIDER, RECIPIENT):
                started = time.perf_counter()
                response = visitor.request_link(link.share_code, email)
                elapsed = time.perf_counter() - started
                assert response.status_code == 202, response.text
                if round_number >= 2:  # the first rounds warm up connections
                    times[email].append(elapsed * 1000)
        visitor.close()
        assert len(stack.smtp.mail.messages) == samples + 2
        return times


def report(label: str, times: dict[str, list[float]]) -> None:
    print(f"\n{label}")
    print(f"  {'who':<14}{'median ms':>10}{'p90 ms':>10}{'stdev ms':>10}")
    for email, values in times.items():
        who = "recipient" if email == RECIPIENT else "non-recipient"
        p90 = statistics.quantiles(values, n=10)[-1]
        print(f"  {who:<14}{statistics.median(values):>10.1f}{p90:>10.1f}"
              f"{statistics.stdev(values):>10.1f}")
    gap = statistics.median(times[RECIPIENT]) - statistics.median(times[OUTSIDER])
    print(f"  median gap (recipient - non-recipient): {gap:+.1f} ms")


def main() -> None:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the IdP's request log
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=int, default=15)
    parser.add_argument("--floor", type=float, default=1.0,
                        help="CIPHERSLIP_MAGIC_LINK_RESPONSE_SECONDS to measure")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as first, tempfile.TemporaryDirectory() as second:
        report("without a response floor (what an attacker could time)",
               measure(0.0, args.samples, Path(first)))
        report(f"with the response floor of {args.floor:.2f} s",
               measure(args.floor, args.samples, Path(second)))


if __name__ == "__main__":
    main()
