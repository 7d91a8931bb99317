"""FLOP counting against the analytic count of a convolution, and the CPU / GPU peaks from their inputs."""

import pytest
import torch

from audiospec.diffusion.flops import count_flops, cpu_info, cpu_peak, gpu_peak
from audiospec.errors import AudiospecError

ZEN4 = """vendor_id\t: AuthenticAMD
cpu family\t: 25
model\t\t: 17
model name\t: AMD EPYC
cpu MHz\t\t: 2596.150
flags\t\t: fpu fma avx avx2 avx512f avx512_bf16
"""
XEON = """vendor_id\t: GenuineIntel
cpu family\t: 6
model name\t: Intel(R) Xeon(R) CPU @ 2.50GHz
cpu MHz\t\t: 2500.000
flags\t\t: fpu fma avx avx2 avx512f avx512bw
"""
HASWELL = """vendor_id\t: GenuineIntel
cpu family\t: 6
model name\t: Intel(R) Core(TM) i7-4770 CPU @ 3.40GHz
flags\t\t: fpu fma avx avx2
"""


def test_conv_flops_match_the_analytic_count():
    # a 3x3 conv, 4 -> 8 channels on [2, 4, 16, 16]: 2 FLOPs per multiply-add, forward only
    conv = torch.nn.Conv2d(4, 8, 3, padding=1, bias=False)
    x = torch.randn(2, 4, 16, 16)
    expected = 2 * 2 * 8 * 16 * 16 * 4 * 9
    assert count_flops(lambda: conv(x)) == expected
    # forward + backward (input and weight gradients): three times the forward
    x.requires_grad_(True)
    assert count_flops(lambda: conv(x).sum().backward()) == 3 * expected


def test_cpu_peak_from_isa_and_clock():
    zen4 = cpu_info(ZEN4, cores=2)
    assert zen4.ghz == pytest.approx(2.59615)
    fp32 = cpu_peak(zen4, "fp32")
    assert fp32.flops_per_second == pytest.approx(2 * 32 * 2.59615e9)  # 166 GFLOP/s
    assert "Zen 4" in fp32.how
    assert cpu_peak(zen4, "bf16").flops_per_second == pytest.approx(2 * fp32.flops_per_second)
    xeon = cpu_info(XEON, cores=2)
    assert xeon.ghz == pytest.approx(2.5)  # the nominal clock of the model name wins over cpu MHz
    assert cpu_peak(xeon, "fp32").flops_per_second == pytest.approx(2 * 64 * 2.5e9)
    bf16 = cpu_peak(xeon, "bf16")  # no avx512_bf16: emulated at the fp32 rate
    assert bf16.flops_per_second == pytest.approx(2 * 64 * 2.5e9) and "not native" in bf16.how
    assert cpu_peak(cpu_info(HASWELL, cores=4), "fp32", threads=1).flops_per_second == pytest.approx(32 * 3.4e9)


def test_peaks_say_when_they_do_not_know():
    assert cpu_peak(cpu_info("flags\t: avx2 fma\n", cores=1)).flops_per_second is None
    assert gpu_peak("NVIDIA H200", "bf16").flops_per_second == pytest.approx(989e12)
    assert gpu_peak("Some Future GPU").flops_per_second is None
    with pytest.raises(AudiospecError, match="dtype must be"):
        cpu_peak(cpu_info(ZEN4, cores=1), "fp8")
