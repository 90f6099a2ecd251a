"""The all-to-all of expert parallelism: dispatch and combine bytes and time per step.

Under expert parallelism (EP) over G GPUs each GPU runs attention for its own
``tokens / G`` tokens and holds ``E / G`` of the routed experts. In every MoE layer
each token's hidden vector goes to the GPUs of its k experts (dispatch, often in FP8)
and the expert outputs come back (combine, BF16). Per GPU and per all-to-all

    bytes_remote = tokens / G * k * hidden * bytes_per_value * (G - 1) / G

(the share 1/G of the token-expert pairs whose expert sits on the token's own GPU
stays local; every pair is counted once, as DeepEP's low-latency kernels send it: no
merging of two experts of one token on the same GPU). Each GPU sends that much and,
on average, receives as much. Of its G - 1 peers, D - 1 share its scale-up domain
(D = min(scale_up_domain_gpus, G): 8 on HGX, 72 on NVL72) and G - D do not, so

    bytes_in_domain = bytes_remote * (D - 1) / (G - 1)     over NVLink
    bytes_scale_out = bytes_remote * (G - D) / (G - 1)     over the GPU's NIC

One all-to-all takes

    t = latency + max(bytes_in_domain / bw_up, bytes_scale_out / bw_out)

with ``bw_up`` the one-way scale-up bandwidth per GPU (``step.bus_bandwidth_gb_s``:
``scale_up_gb_s / 2 * link_efficiency``, fewer links on a mesh) and ``bw_out =
scale_out_gb_s * network_efficiency``. NVLink and the NIC are separate engines that
DeepEP and NCCL drive at the same time, so by default the two parts overlap
(``overlap_links=True``); ``overlap_links=False`` adds them instead (an upper bound).
Calibration: DeepEP's low-latency kernels on H800 with 400 Gb/s CX7 (deepseek-ai/DeepEP
README, 128 tokens, hidden 7168, top-8, FP8 dispatch, BF16 combine) take 173 / 192 /
194 us to dispatch and 314 / 369 / 360 us to combine at EP 64 / 128 / 256; this model
with ``network_efficiency`` 0.8 and ``alltoall_latency_us`` 10 gives them within 12 %
(tests/test_comm.py).
"""

from __future__ import annotations

import numpy as np

from costmodel.step import bus_bandwidth_gb_s

#: Bytes per value of an FP8 dispatch with one FP32 scale per 128 values (DeepEP,
#: DeepSeek-V3 fine-grained quantisation): 1 + 4 / 128.
FP8_BLOCK_SCALED_BYTES_PER_VALUE = 1.0 + 4.0 / 128.0


def moe_layer_count(n_layers, first_dense_layers=0, moe_layer_step=1):
    """MoE layers of a model: ``(n_layers - first_dense_layers) // moe_layer_step``.

    ``first_dense_layers``: leading dense layers (``first_k_dense_replace``: 3 for
    DeepSeek-V3, 1 for Kimi K2); ``moe_layer_step``: every how many layers one is MoE
    (``interleave_moe_layer_step`` 2 for Llama 4 Maverick, else 1). DeepSeek-V3:
    (61 - 3) // 1 = 58; Maverick: 48 // 2 = 24.
    """
    L = np.asarray(n_layers)
    first = np.asarray(first_dense_layers)
    step = np.asarray(moe_layer_step)
    if np.any(step < 1):
        raise ValueError(f"moe_layer_step must be an integer >= 1; got {moe_layer_step!r}")
    if np.any((first < 0) | (first > L)):
        raise ValueError(f"first_dense_layers must be in [0, n_layers]; got {first_dense_layers!r}")
    return (L - first) // step


def _check_positive(name, value):
    if np.any(~(np.asarray(value, float) > 0)):
        raise ValueError(f"{name} must be > 0; got {value!r}")


def _check_share(name, value):
    v = np.asarray(value, float)
    if np.any(~((v > 0) & (v <= 1))):
        raise ValueError(f"{name} must be in (0, 1]; got {value!r}")


def alltoall_bytes(
    *, tokens, n_gpus, scale_up_domain_gpus, experts_per_token, hidden_size, bytes_per_value
) -> dict:
    """Bytes one GPU sends in one all-to-all of one MoE layer [B], split by link.

    ``tokens``: tokens of the step on the whole EP group (``tokens / n_gpus`` per GPU);
    ``bytes_per_value``: 1 for FP8 (``FP8_BLOCK_SCALED_BYTES_PER_VALUE`` with scales),
    2 for BF16. Returns ``in_domain_bytes`` (to the D - 1 peers of the scale-up domain)
    and ``scale_out_bytes`` (to the G - D peers outside it); both 0 on one GPU. See the
    module docstring for the formula.
    """
    for name, value in (
        ("tokens", tokens),
        ("n_gpus", n_gpus),
        ("scale_up_domain_gpus", scale_up_domain_gpus),
        ("experts_per_token", experts_per_token),
        ("hidden_size", hidden_size),
        ("bytes_per_value", bytes_per_value),
    ):
        _check_positive(name, value)
    G = np.asarray(n_gpus, float)
    D = np.minimum(np.asarray(scale_up_domain_gpus, float), G)
    per_gpu_bytes = (
        np.asarray(tokens, float) / G * experts_per_token * hidden_size * bytes_per_value
    )
    remote = per_gpu_bytes * (G - 1.0) / G
    peers = np.where(G > 1, G - 1.0, 1.0)
    return {
        "in_domain_bytes": remote * (D - 1.0) / peers,
        "scale_out_bytes": remote * (G - D) / peers,
    }


def one_alltoall_ms(
    *,
    tokens,
    n_gpus,
    scale_up_domain_gpus,
    experts_per_token,
    hidden_size,
    bytes_per_value,
    scale_up_gb_s,
    link_efficiency,
    scale_out_gb_s,
    network_efficiency,
    alltoall_latency_us,
    mesh_links=np.nan,
    overlap_links=True,
    busiest_gpu_factor=1.0,
):
    """Time of one all-to-all (a dispatch or a combine) of one MoE layer [ms].

    ``latency + max(in_domain / bw_up, scale_out / bw_out)`` (their sum if not
    ``overlap_links``), bytes from :func:`alltoall_bytes`, ``bw_up =
    bus_bandwidth_gb_s(scale_up_gb_s, link_efficiency, D, mesh_links)`` and ``bw_out =
    scale_out_gb_s * network_efficiency`` [GB/s]. ``scale_up_gb_s`` is the catalog's
    NVLink bandwidth, both directions together [GB/s]; ``scale_out_gb_s`` the NIC
    bandwidth per GPU per direction [GB/s] (400 Gb/s = 50 GB/s); ``alltoall_latency_us``
    a fixed cost per all-to-all [us]. The busiest GPU receives (dispatch) and sends
    (combine) ``busiest_gpu_factor`` times the mean bytes (see
    ``imbalance.busiest_gpu_factor``); 1 = balanced. Zero on one GPU.
    """
    _check_share("link_efficiency", link_efficiency)
    _check_share("network_efficiency", network_efficiency)
    _check_positive("scale_up_gb_s", scale_up_gb_s)
    _check_positive("scale_out_gb_s", scale_out_gb_s)
    if np.any(np.asarray(alltoall_latency_us, float) < 0):
        raise ValueError(f"alltoall_latency_us must be >= 0; got {alltoall_latency_us!r}")
    if np.any(np.asarray(busiest_gpu_factor, float) < 1):
        raise ValueError(f"busiest_gpu_factor must be >= 1; got {busiest_gpu_factor!r}")
    G = np.asarray(n_gpus, float)
    D = np.minimum(np.asarray(scale_up_domain_gpus, float), G)
    part = alltoall_bytes(
        tokens=tokens,
        n_gpus=G,
        scale_up_domain_gpus=D,
        experts_per_token=experts_per_token,
        hidden_size=hidden_size,
        bytes_per_value=bytes_per_value,
    )
    up_b_s = bus_bandwidth_gb_s(scale_up_gb_s, link_efficiency, D, mesh_links) * 1e9
    out_b_s = np.asarray(scale_out_gb_s, float) * network_efficiency * 1e9
    t_up = part["in_domain_bytes"] * busiest_gpu_factor / up_b_s
    t_out = part["scale_out_bytes"] * busiest_gpu_factor / out_b_s
    transfer_s = np.where(overlap_links, np.maximum(t_up, t_out), t_up + t_out)
    latency_s = np.asarray(alltoall_latency_us, float) * 1e-6
    return np.where(G > 1, (latency_s + transfer_s) * 1e3, 0.0)


def alltoall_ms(
    *, n_moe_layers, dispatch_bytes_per_value=1.0, combine_bytes_per_value=2.0, **network
):
    """Dispatch and combine all-to-alls of one forward pass [ms].

    ``n_moe_layers * (one_alltoall_ms(dispatch) + one_alltoall_ms(combine))``: dispatch
    in ``dispatch_bytes_per_value`` (1 = FP8), combine in ``combine_bytes_per_value``
    (2 = BF16). ``network``: the other keyword arguments of :func:`one_alltoall_ms`
    (``tokens``, ``n_gpus``, ``scale_up_domain_gpus``, ``experts_per_token``,
    ``hidden_size``, ``scale_up_gb_s``, ``link_efficiency``, ``scale_out_gb_s``,
    ``network_efficiency``, ``alltoall_latency_us``, optional ``mesh_links``,
    ``overlap_links``, ``busiest_gpu_factor``).
    """
    if np.any(np.asarray(n_moe_layers) < 0):
        raise ValueError(f"n_moe_layers must be >= 0; got {n_moe_layers!r}")
    dispatch = one_alltoall_ms(bytes_per_value=dispatch_bytes_per_value, **network)
    combine = one_alltoall_ms(bytes_per_value=combine_bytes_per_value, **network)
    return np.asarray(n_moe_layers, float) * (dispatch + combine)
