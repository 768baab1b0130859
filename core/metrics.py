"""Prometheus metrics: what operators watch. Counted where the domain decides (services),
exposed by the api at /metrics. One registry per process, built by the container."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.orm import Session, sessionmaker

from core.clock import Clock

REVEAL_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class PurgeLagCollector(Collector):
    """now - the oldest expiry not yet purged, read from the database at scrape time."""

    def __init__(self, db: sessionmaker[Session], clock: Clock) -> None:
        self._db = db
        self._clock = clock

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from scheduler.jobs import purge_lag_seconds  # the scheduler owns the definition

        gauge = GaugeMetricFamily(
            "cipherslip_purge_lag_seconds",
            "Seconds since the oldest expired secret that still awaits its purge (0: none)",
        )
        gauge.add_metric([], purge_lag_seconds(self._db, self._clock.now()))
        yield gauge


class Metrics:
    def __init__(
        self, db: sessionmaker[Session] | None = None, clock: Clock | None = None
    ) -> None:
        self.registry = CollectorRegistry()
        self.created = Counter("cipherslip_secrets_created", "Secrets that became active",
                               ["mode"], registry=self.registry)
        self.revealed = Counter("cipherslip_secrets_revealed",
                                "Successful reveals (views taken)", ["mode"],
                                registry=self.registry)
        self.denied = Counter("cipherslip_access_denied",
                              "Refused access attempts, by reason", ["mode", "reason"],
                              registry=self.registry)
        self.reveal_seconds = Histogram("cipherslip_reveal_seconds",
                                        "Time to serve a successful reveal", ["mode"],
                                        buckets=REVEAL_BUCKETS, registry=self.registry)
        if db is not None and clock is not None:
            self.registry.register(PurgeLagCollector(db, clock))

    def secret_created(self, mode: str) -> None:
        self.created.labels(mode=mode).inc()

    def secret_revealed(self, mode: str, seconds: float) -> None:
        self.revealed.labels(mode=mode).inc()
        self.reveal_seconds.labels(mode=mode).observe(seconds)

    def access_denied(self, mode: str | None, reason: str) -> None:
        self.denied.labels(mode=mode or "none", reason=reason).inc()
