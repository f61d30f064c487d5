"""The broker set-up from the settings: its kind, its middleware, and the metrics switch."""

import importlib.util

import pytest
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import Retries, TimeLimit

from crm_graph.errors import ConfigurationError
from crm_graph.settings import Settings
from workers.broker import JobOutcome, build_broker, build_middleware


def _settings(**values) -> Settings:
    return Settings(_env_file=None, **values)


def test_no_redis_means_an_in_process_broker_and_redis_a_redis_broker():
    assert isinstance(build_broker(_settings()), StubBroker)
    broker = build_broker(_settings(redis_url="redis://127.0.0.1:6379/15", redis_namespace="x"))
    assert isinstance(broker, RedisBroker) and broker.namespace == "x"
    broker.client.close()


def test_the_middleware_has_our_retry_policy_and_time_limit():
    middleware = build_middleware(_settings(job_max_retries=3, job_time_limit_minutes=10))
    kinds = [type(m) for m in middleware]
    retries = middleware[kinds.index(Retries)]
    assert retries.max_retries == 3 and retries.min_backoff == 2_000 and retries.max_backoff == 300_000
    assert middleware[kinds.index(TimeLimit)].time_limit == 600_000
    # JobOutcome's after-hooks must run after Retries' (they run in reverse order of the list).
    assert kinds.index(JobOutcome) < kinds.index(Retries)


def test_metrics_need_prometheus_client(monkeypatch):
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    with pytest.raises(ConfigurationError, match="prometheus-client"):
        build_broker(_settings(redis_url="redis://127.0.0.1:6379/15", worker_metrics=True))
