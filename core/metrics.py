"""Prometheus metrics: what operators watch. Counted where the domain decides (services),
exposed by the api at /metrics. One registry per process, built by the container."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from core.clock import Clock, as_utc
from core.db.models import Secret
from core.services.states import SecretStatus

REVEAL_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class PurgeLagCollector(Collector):
    """now - the oldest expiry not yet purged, read from the database at scrape time."""

    def __init__(self, db: sessionmaker[Session], clock: Clock) -> None:
        self._db = db
        self._clock = clock

    def collect(self) -> Iterator[GaugeMetricFamily]:
        gauge = GaugeMetricFamily(
            "cipherslip_purge_lag_seconds",
            "Seconds since the oldest expired secret that still awaits its purge (0: none)",
        )
        now = self._clock.now()
        with self._db() as session:
            oldest = session.scalar(select(func.min(Secret.expires_at)).where(
                Secret.status == SecretStatus.ACTIVE, Secret.expires_at <= now))
        gauge.add_metric([], (now - as_utc(oldest)).total_seconds() if oldest else 0.0)
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

    def audited(self, activity_name: str, mode: str | None, status_detail: str | None) -> None:
        """Count an audited outcome (the audit log calls this for every event it records)."""
        label = mode or "none"
        if activity_name == "paper_secret_created":
            self.created.labels(mode=label).inc()
        elif activity_name in ("paper_secret_opened", "paper_secret_opened_internal"):
            self.revealed.labels(mode=label).inc()
        elif activity_name == "paper_secret_access_denied":
            self.denied.labels(mode=label, reason=status_detail or "unknown").inc()

    def reveal_served(self, mode: str, seconds: float) -> None:
        self.reveal_seconds.labels(mode=mode).observe(seconds)
