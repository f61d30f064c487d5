"""Sending a job's message: the one place that turns a job row into a broker message."""

from __future__ import annotations

import dramatiq


def job_message(job_id: int, kind: str) -> dramatiq.Message:
    """The message that runs job `job_id` of `kind` (its actor's queue and name, the id as argument)."""
    from workers.actors import JOB_ACTORS

    actor = JOB_ACTORS[kind]
    return dramatiq.Message(queue_name=actor.queue_name, actor_name=actor.actor_name, args=(job_id,),
                            kwargs={}, options={})


def send_job(job_id: int, kind: str, *, broker: dramatiq.Broker | None = None) -> dramatiq.Message:
    """Send job `job_id` to the workers (through `broker`, default this process's broker)."""
    from workers.broker import setup_broker

    target = broker or setup_broker()
    return target.enqueue(job_message(job_id, kind))
