"""Models trained side by side in worker processes equal the ones trained one after the other."""

import pytest
import torch

from audiospec.diffusion.checkpoint import load_checkpoint
from audiospec.diffusion.config import TrainConfig
from audiospec.diffusion.parallel import TrainJob, is_finished, train_jobs
from audiospec.diffusion.priors import ColoredNoise, WhiteNoise
from audiospec.errors import AudiospecError


def _jobs(root, patches):
    config = TrainConfig.from_dict({"steps": 3, "batch_size": 4, "checkpoint_every": 3, "precision": "fp32",
                                    "model": {"preset": "tiny", "base_channels": 8, "channel_mults": [1, 2],
                                              "attention": False}})
    priors = [WhiteNoise(), ColoredNoise(beta=1.0), WhiteNoise()]
    return [TrainJob(config=TrainConfig.from_dict({**config.to_dict(), "seed": i}), prior=prior, patches=patches,
                     out_dir=root / f"job{i}") for i, prior in enumerate(priors)]


def test_parallel_training_equals_sequential(tmp_path):
    patches = torch.randn(8, 1, 16, 16, generator=torch.Generator().manual_seed(0))
    sequential, parallel = _jobs(tmp_path / "seq", patches), _jobs(tmp_path / "par", patches)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the workers run with one thread each: same arithmetic
    try:
        train_jobs(sequential, workers=1, progress=False)
    finally:
        torch.set_num_threads(threads)
    results = train_jobs(parallel, workers=2, threads=1, progress=False)
    assert [r.steps for r in results] == [3, 3, 3]
    for a, b in zip(sequential, parallel):
        assert is_finished(b)
        ema_a, ema_b = load_checkpoint(a.out_dir / "checkpoint.safetensors")[1], load_checkpoint(
            b.out_dir / "checkpoint.safetensors")[1]
        for (name, pa), pb in zip(ema_a.state_dict().items(), ema_b.state_dict().values()):
            torch.testing.assert_close(pa, pb, rtol=1e-5, atol=1e-6, msg=name)
    # a finished pool is not retrained: every job is skipped
    assert train_jobs(parallel, workers=2, threads=1, progress=False) == [None, None, None]


def test_jobs_must_not_share_a_folder(tmp_path):
    patches = torch.randn(8, 1, 16, 16)
    jobs = _jobs(tmp_path, patches)
    clash = [jobs[0], TrainJob(config=jobs[1].config, prior=jobs[1].prior, patches=patches, out_dir=jobs[0].out_dir)]
    with pytest.raises(AudiospecError, match="same folder"):
        train_jobs(clash, workers=2, progress=False)
    with pytest.raises(AudiospecError, match="workers must be a positive integer"):
        train_jobs(jobs, workers=0, progress=False)


def test_on_device_network_keeps_the_callers_tensors_where_they_are():
    from audiospec.diffusion.runtime import OnDevice
    from audiospec.diffusion.samplers import model_device
    from audiospec.diffusion.unet import ModelConfig, build_model

    net = build_model(ModelConfig(base_channels=8, channel_mults=(1, 2), attention=False, norm_groups=8),
                      generator=torch.Generator().manual_seed(0)).eval()
    wrapped = OnDevice(net, "cpu")
    x, t = torch.randn(2, 1, 8, 8, requires_grad=True), torch.rand(2)
    out = wrapped(x, t)
    torch.testing.assert_close(out, net(x, t))
    assert model_device(wrapped, None).type == "cpu"  # samplers keep noise and trajectories on the CPU
    out.square().sum().backward()  # the likelihood's divergence needs gradients through the copies
    assert x.grad is not None and torch.isfinite(x.grad).all()


def test_auto_precision_is_bf16_only_where_the_cpu_computes_it_natively(monkeypatch):
    from audiospec.diffusion import runtime

    for native in (True, False):
        monkeypatch.setattr(runtime, "native_cpu_bf16", lambda native=native: native)
        device = runtime.SingleDevice(device="cpu", precision="auto")
        net = torch.nn.Linear(4, 4)
        with device.autocast():
            out = net(torch.randn(2, 4))
        assert out.dtype == (torch.bfloat16 if native else torch.float32)
        with runtime.SingleDevice(device="cpu", precision="bf16").autocast():  # bf16 means CUDA only: fp32 here
            assert net(torch.randn(2, 4)).dtype == torch.float32
