"""Studio's Prometheus metrics: what they are called, and the small hooks the app records through.

Each app instance owns its registry (not prometheus_client's global one), so several apps in one
process, as in the tests, count separately. Labels are operations, statuses and event types from
fixed sets: never a user id, an address or a prompt.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

RUN_STATUSES = ("ok", "failed", "cancelled", "rejected")
# A tiny model answers in well under a second, a real one on a CPU in minutes.
DURATION_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0)


class Metrics:
    """The app's metrics. Call the hooks; `render` gives the Prometheus text exposition."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self, operations: Iterable[str] = ()) -> None:
        self.registry = CollectorRegistry()
        self.runs = Counter("studio_runs", "Edit runs, by operation and outcome.", ["operation", "status"],
                            registry=self.registry)
        self.run_seconds = Histogram("studio_run_duration_seconds", "How long edit runs took, checks to result.",
                                     ["operation"], buckets=DURATION_BUCKETS, registry=self.registry)
        self.queue_depth = Gauge("studio_queue_depth", "Requests waiting for or running on the device.",
                                 registry=self.registry)
        self.credits_spent = Counter("studio_credits_spent", "Credits charged for successful runs, by operation.",
                                     ["operation"], registry=self.registry)
        self.webhook_events = Counter("studio_webhook_events", "Creem webhook deliveries, by event type and outcome.",
                                      ["event_type", "outcome"], registry=self.registry)
        for operation in operations:  # every series exists from the start, so rates and alerts see zeros
            self.run_seconds.labels(operation)
            self.credits_spent.labels(operation)
            for status in RUN_STATUSES:
                self.runs.labels(operation, status)

    # ------------------------------------------------------------ hooks

    def run_finished(self, operation: str, status: str, seconds: float) -> None:
        self.runs.labels(operation, status).inc()
        self.run_seconds.labels(operation).observe(max(0.0, seconds))

    def credits_charged(self, operation: str, credits: int) -> None:
        if credits > 0:
            self.credits_spent.labels(operation).inc(credits)

    def webhook_event(self, event_type: str, outcome: str) -> None:
        self.webhook_events.labels(event_type, outcome).inc()

    def watch_queue(self, depth: Callable[[], int]) -> None:
        """Read the queue's depth when scraped, rather than tracking every change."""
        self.queue_depth.set_function(depth)

    # ------------------------------------------------------------ exposition

    def render(self) -> bytes:
        return generate_latest(self.registry)
