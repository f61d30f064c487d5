"""A simulated store whose buyers follow the BG/NBD story, for tests that need a real CLV fit."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

import numpy as np
from sqlalchemy import insert, select
from sqlmodel import Session

from crm_graph.models import Customer, Order


def simulate_store(engine, store, n: int = 300, seed: int = 11) -> None:
    """n customers acquired in Q1 2025 buying at Poisson rates until they drop out; values ~ Gamma."""
    rng = np.random.default_rng(seed)
    with Session(engine) as session:
        session.execute(insert(Customer), [{"store_id": store.id, "email": f"c{i}@example.com"} for i in range(n)])
        ids = session.execute(select(Customer.id).where(Customer.store_id == store.id).order_by(Customer.id)).scalars().all()
        orders = []
        for cid in ids:
            day = date(2025, 1, 1) + timedelta(days=int(rng.integers(0, 90)))
            rate, p_drop, mean_value = rng.gamma(1.0, 1 / 20.0), rng.beta(1.0, 4.0), rng.gamma(4.0, 10.0)
            while day <= date(2026, 3, 31):
                value = Decimal(f"{max(rng.gamma(5.0, mean_value / 5.0), 1.0):.2f}")
                orders.append({"store_id": store.id, "source": "sim", "external_id": f"{cid}-{len(orders)}",
                               "customer_id": cid, "status": "COMPLETED", "currency": "USD", "total": value,
                               "subtotal": value, "placed_at": datetime.combine(day, time(12), tzinfo=timezone.utc)})
                if rng.random() < p_drop:
                    break
                day += timedelta(days=max(1, int(rng.exponential(1 / max(rate, 1e-3)))))
        session.execute(insert(Order), orders)
        session.commit()
