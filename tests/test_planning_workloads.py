"""Workloads: the catalog, distributions and the user's own."""

import numpy as np
import pytest

from costmodel.planning import LengthDistribution, catalog_workloads, request_class, workload


def test_catalog_rows_have_sources_and_published_means():
    found = catalog_workloads()
    assert {"chat", "rag", "reasoning", "agentic-coding", "inferencex-8k1k"} <= set(found)
    for w in found.values():
        assert w.source and w.date
        assert sum(c.share for c in w.classes) == pytest.approx(1.0)
    # MLPerf DeepSeek-R1: 804 in, 3,693 out (lognormal means; the nodes land within 1.5 %).
    means = found["reasoning"].mean_tokens()
    assert means["prompt"] == pytest.approx(804, rel=0.015)
    assert means["output"] == pytest.approx(3693, rel=0.015)
    # InferenceX 8k/1k: uniform 6,553 to 8,192 (mean 7,372.5).
    assert found["inferencex-8k1k"].mean_tokens()["prompt"] == pytest.approx(7372.5)
    # Kimi's chat trace: median prompt 6,909 tokens, 37.4 % prefix-cache hits.
    chat = found["chat"].classes[0]
    assert chat.prompt.quantile(0.5) == pytest.approx(6909)
    assert chat.prefix_cache_hit_rate == pytest.approx(0.374)


def test_lognormal_has_its_mean_and_spread():
    d = LengthDistribution.lognormal(1000, 0.5)
    rng = np.random.default_rng(0)
    x = d.sample(rng, 400_000)
    assert x.mean() == pytest.approx(1000, rel=0.01)
    assert x.std() / x.mean() == pytest.approx(0.5, rel=0.02)
    # Its median: exp(mu) = 1000 / sqrt(1 + 0.25) = 894.4.
    assert float(d.quantile(0.5)) == pytest.approx(1000 / np.sqrt(1.25), rel=1e-4)


def test_own_workload_from_numbers_is_checked_and_normalised():
    w = workload(
        "mine", request_class("chat", 3, 500, 200), request_class("rag", 1, (8000, 0.5), 300)
    )
    assert [c.share for c in w.classes] == pytest.approx([0.75, 0.25])
    assert w.mean_tokens()["prompt"] == pytest.approx(0.75 * 500 + 0.25 * 8000, rel=0.01)
    nodes = w.nodes(8)
    assert len(nodes["prompt"]) == 16 and nodes["prompt"]["weight"].sum() == pytest.approx(1)
    with pytest.raises(ValueError, match="share"):
        request_class("x", 0, 100, 100)
    with pytest.raises(ValueError, match="prefix_cache_hit_rate"):
        request_class("x", 1, 100, 100, 1.5)
    with pytest.raises(ValueError, match="mean_tokens"):
        request_class("x", 1, (0, 0.5), 100)
    with pytest.raises(ValueError, match="differ"):
        workload("w", request_class("a", 1, 10, 10), request_class("a", 1, 10, 10))
    with pytest.raises(ValueError, match="probabilities"):
        LengthDistribution.empirical([0.1, 1.0], [10, 20])


def test_nodes_are_worked_out_once_and_handed_out_as_copies():
    work = catalog_workloads()["chat"]
    first = work.nodes()
    first["prompt"]["tokens"] = -1.0
    assert (work.nodes()["prompt"]["tokens"] >= 1).all()
    means = work.mean_tokens()
    means["prompt"] = -1.0
    assert work.mean_tokens()["prompt"] > 0
