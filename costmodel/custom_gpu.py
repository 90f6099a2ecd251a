"""A GPU of your own, typed by its specs: each input with its ``Spec``, added to a catalog.

``CustomGpu(hbm_gb=..., bandwidth_tb_s=..., bf16_dense_tflops=..., usd_per_gpu_hour=...)``
states one GPU; :meth:`CustomGpu.add_to` returns a catalog with it (``Catalog.with_gpu``:
its family's efficiencies, ``source`` "user input"). The specs marked ``NEEDED`` have no
default: until they are typed there is no GPU to add (:attr:`CustomGpu.complete`). The
links' defaults are an H100 SXM's (NVLink 900 GB/s in an 8-GPU node, a 400 Gb/s NIC).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from costmodel.catalog import Catalog
from costmodel.fields import FIELD_RANGES
from costmodel.spec import Checked, choice, integer, number

#: What an empty needed spec means.
_TYPE_IT = "type it to add the GPU"
#: What an empty optional peak means.
_NONE = "no such tensor units"
_PRICE_LOW, _PRICE_HIGH = FIELD_RANGES["usd_per_gpu_hour"]


@dataclass(frozen=True)
class CustomGpu(Checked):
    """Your GPU's specs (units in the names), its family and its price."""

    family: str = choice(
        "hopper",
        label="Efficiencies of the family",
        help="Its bandwidth and compute efficiencies, all-reduce latency and uncertainty "
        "come from this family (assets/gpu_families.csv)",
        catalog_table="gpu_families",
    )
    hbm_gb: float | None = number(
        None, 1.0, 4096.0, 1.0, unit="GB", label="Memory", help="GPU memory [GB]", empty=_TYPE_IT
    )
    bandwidth_tb_s: float | None = number(
        None,
        0.05,
        100.0,
        0.05,
        unit="TB/s",
        label="Bandwidth",
        help="Peak memory bandwidth [TB/s]",
        empty=_TYPE_IT,
    )
    bf16_dense_tflops: float | None = number(
        None,
        1.0,
        100000.0,
        1.0,
        unit="TFLOPS",
        label="BF16 dense",
        help="Dense BF16 tensor peak, without 2:4 sparsity [TFLOP/s]",
        empty=_TYPE_IT,
    )
    fp8_dense_tflops: float | None = number(
        None,
        1.0,
        100000.0,
        1.0,
        unit="TFLOPS",
        label="FP8 dense",
        help="Dense FP8 tensor peak; empty: no FP8 units (FP8 runs at BF16) [TFLOP/s]",
        empty=_NONE,
    )
    fp4_dense_tflops: float | None = number(
        None,
        1.0,
        100000.0,
        1.0,
        unit="TFLOPS",
        label="FP4 dense",
        help="Dense FP4 tensor peak; empty: no FP4 units (FP4 runs at FP8) [TFLOP/s]",
        empty=_NONE,
    )
    scale_up_gb_s: float = number(
        900.0,
        1.0,
        100000.0,
        1.0,
        unit="GB/s",
        label="Scale-up",
        help="Scale-up bandwidth per GPU, both directions together (NVLink4 900) [GB/s]",
    )
    scale_up_domain_gpus: int = integer(
        8,
        1,
        576,
        unit="GPUs",
        label="Scale-up domain",
        help="GPUs that reach each other at the scale-up bandwidth (an HGX node: 8) [GPUs]",
    )
    scale_out_gb_s: float = number(
        50.0,
        1.0,
        10000.0,
        1.0,
        unit="GB/s",
        label="Scale-out",
        help="Network bandwidth per GPU (400 Gb/s = 50 GB/s) [GB/s]",
    )
    usd_per_gpu_hour: float | None = number(
        None,
        _PRICE_LOW,
        _PRICE_HIGH,
        0.05,
        unit="$/GPU-hour",
        label="Price",
        help="Your rental price of one GPU [$/GPU-hour]",
        empty=_TYPE_IT,
    )

    #: Specs without which there is no GPU to add.
    NEEDED = ("hbm_gb", "bandwidth_tb_s", "bf16_dense_tflops", "usd_per_gpu_hour")

    @property
    def complete(self) -> bool:
        """Whether every needed spec is typed."""
        return all(getattr(self, name) is not None for name in self.NEEDED)

    def add_to(self, catalog: Catalog, gpu_id: str, name: str) -> Catalog:
        """``catalog`` with this GPU as ``gpu_id`` (``Catalog.with_gpu``); ``ValueError``
        while a needed spec is empty."""
        if not self.complete:
            missing = [n for n in self.NEEDED if getattr(self, n) is None]
            raise ValueError(f"a GPU of your own needs {', '.join(missing)}")
        specs = {k: v for k, v in asdict(self).items() if v is not None}
        return catalog.with_gpu(gpu_id, name=name, **specs)
