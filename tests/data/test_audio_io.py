"""read_audio / decode_audio_bytes / write_wav: round trips, resampling, and every rejected input."""

from __future__ import annotations

import math

import numpy as np
import pytest
import soundfile as sf
import torch
from helpers_data import peak_frequency, sine, wav_bytes, write_tone

from audiospec.data import audio_info, decode_audio_bytes, read_audio, resample, write_wav
from audiospec.errors import AudiospecError

# Quantisation step of each subtype (tolerance of a write/read round trip, in full-scale units).
SUBTYPE_TOLERANCE = {"PCM_U8": 1 / 128, "PCM_16": 1 / 32768, "PCM_24": 1 / 2**23, "PCM_32": 1 / 2**31,
                     "FLOAT": 1e-7, "DOUBLE": 1e-7}


@pytest.mark.parametrize("subtype", sorted(SUBTYPE_TOLERANCE))
@pytest.mark.parametrize("sample_rate", [8000, 22050, 48000])
def test_write_then_read_round_trip_mono(tmp_path, subtype, sample_rate):
    wave = torch.from_numpy(sine(330.0, sample_rate=sample_rate, seconds=0.25, amplitude=0.8))
    path = write_wav(tmp_path / "x.wav", wave, sample_rate=sample_rate, subtype=subtype)
    back, rate = read_audio(path)
    assert rate == sample_rate
    assert back.dtype == torch.float32 and back.shape == wave.shape
    assert float((back - wave).abs().max()) <= SUBTYPE_TOLERANCE[subtype] + 1e-7
    assert audio_info(path).subtype == subtype


def test_stereo_round_trip_and_mono_is_channel_mean(tmp_path):
    left = torch.from_numpy(sine(440.0, sample_rate=8000, seconds=0.5, amplitude=0.6))
    right = torch.from_numpy(sine(660.0, sample_rate=8000, seconds=0.5, amplitude=0.2))
    stereo = torch.stack([left, right])  # [2, L]
    path = write_wav(tmp_path / "deep" / "er" / "s.wav", stereo, sample_rate=8000, subtype="FLOAT")
    both, _ = read_audio(path, mono=False)
    assert both.shape == (2, left.shape[0])
    torch.testing.assert_close(both, stereo)
    mono, _ = read_audio(path)
    torch.testing.assert_close(mono, (left + right) / 2)


def test_multichannel_and_mono_false_on_a_mono_file(tmp_path):
    path = write_tone(tmp_path / "six.wav", channels=6, sample_rate=8000, seconds=0.1, subtype="FLOAT")
    six, _ = read_audio(path, mono=False)
    assert six.shape[0] == 6
    # channel c holds amplitude 0.5 / (c + 1): the mono mix is their mean
    torch.testing.assert_close(read_audio(path)[0], six.mean(dim=0))
    mono_file = write_tone(tmp_path / "one.wav", sample_rate=8000, seconds=0.1)
    one, _ = read_audio(mono_file, mono=False)
    assert one.shape == (1, 800)


def test_float_file_beyond_full_scale_is_returned_unclipped(tmp_path):
    wave = torch.tensor([0.0, 1.5, -2.0, 0.25])
    path = write_wav(tmp_path / "loud.wav", wave, sample_rate=8000, subtype="FLOAT")
    torch.testing.assert_close(read_audio(path)[0], wave)


def test_all_silent_file_reads_as_zeros(tmp_path):
    path = write_wav(tmp_path / "silent.wav", torch.zeros(4000), sample_rate=8000)
    wave, rate = read_audio(path, sample_rate=16000)
    assert rate == 16000 and wave.shape == (8000,) and float(wave.abs().max()) == 0.0


def test_other_formats_ogg_flac(tmp_path):
    for ext in ("ogg", "flac"):
        path = write_tone(tmp_path / f"t.{ext}", freq=500.0, sample_rate=16000, seconds=0.5)
        wave, rate = read_audio(path)
        assert rate == 16000
        assert peak_frequency(wave, sample_rate=rate) == pytest.approx(500.0, abs=2.5)


@pytest.mark.parametrize(("orig", "target"), [(48000, 22050), (8000, 22050), (44100, 16000)])
def test_resampling_keeps_a_sine_at_its_frequency(tmp_path, orig, target):
    path = write_tone(tmp_path / "a.wav", freq=440.0, sample_rate=orig, seconds=1.0, subtype="FLOAT")
    wave, rate = read_audio(path, sample_rate=target)
    assert rate == target
    assert wave.shape[-1] == math.ceil(orig * target / orig)
    assert peak_frequency(wave, sample_rate=rate) == pytest.approx(440.0, abs=1.0)
    # amplitude preserved away from the edges (sinc interpolation, passband)
    middle = wave[target // 10: -target // 10]
    assert float(middle.abs().max()) == pytest.approx(0.5, rel=0.01)


def test_resample_is_identity_at_equal_rates_and_rejects_bad_rates():
    x = torch.randn(3, 100)
    assert resample(x, orig_rate=8000, sample_rate=8000) is x
    with pytest.raises(AudiospecError, match=r"sample_rate must be a positive integer.*got 0"):
        resample(x, orig_rate=8000, sample_rate=0)


def test_partial_read_with_start_and_frames(tmp_path):
    ramp = torch.linspace(-0.9, 0.9, 1000)
    path = write_wav(tmp_path / "ramp.wav", ramp, sample_rate=8000, subtype="FLOAT")
    part, _ = read_audio(path, start=100, frames=50)
    torch.testing.assert_close(part, ramp[100:150])
    with pytest.raises(AudiospecError, match=r"start=5000 is past the end"):
        read_audio(path, start=5000)


# ---- rejected inputs -------------------------------------------------------------------


def test_missing_file(tmp_path):
    with pytest.raises(AudiospecError, match=r"'.*nope\.wav' does not exist; check the path"):
        read_audio(tmp_path / "nope.wav")


def test_directory_instead_of_file(tmp_path):
    (tmp_path / "d.wav").mkdir()
    with pytest.raises(AudiospecError, match=r"is a directory.*folder:PATH"):
        read_audio(tmp_path / "d.wav")


def test_zero_length_file(tmp_path):
    (tmp_path / "empty.wav").write_bytes(b"")
    with pytest.raises(AudiospecError, match=r"empty\.wav' is empty \(0 bytes\); re-download"):
        read_audio(tmp_path / "empty.wav")


def test_non_audio_file_with_audio_extension(tmp_path):
    (tmp_path / "fake.mp3").write_text("this is a text file, not audio\n" * 20)
    with pytest.raises(AudiospecError, match=r"could not decode '.*fake\.mp3'.*corrupt, truncated or not audio"):
        read_audio(tmp_path / "fake.mp3")


def test_truncated_wav_header_only_and_mid_data(tmp_path):
    full = wav_bytes(sample_rate=8000, seconds=1.0)
    (tmp_path / "header.wav").write_bytes(full[:44])
    with pytest.raises(AudiospecError, match=r"header\.wav'.*(truncated|no audio samples)"):
        read_audio(tmp_path / "header.wav")
    (tmp_path / "half.wav").write_bytes(full[: len(full) // 2])
    with pytest.raises(AudiospecError, match=r"half\.wav' is truncated: its WAV header declares 16000 data bytes"):
        read_audio(tmp_path / "half.wav")


def test_corrupt_ogg(tmp_path):
    good = write_tone(tmp_path / "good.ogg", sample_rate=8000, seconds=1.0).read_bytes()
    (tmp_path / "bad.ogg").write_bytes(good[:100])
    with pytest.raises(AudiospecError, match=r"bad\.ogg"):
        read_audio(tmp_path / "bad.ogg")


def test_nan_and_inf_samples(tmp_path):
    data = np.zeros(100, dtype=np.float32)
    data[10], data[20] = np.nan, np.inf
    sf.write(str(tmp_path / "nan.wav"), data, 8000, subtype="FLOAT")
    with pytest.raises(AudiospecError, match=r"nan\.wav' contains 2 NaN/Inf sample\(s\)"):
        read_audio(tmp_path / "nan.wav")


def test_decode_audio_bytes_trusts_the_rate_in_the_bytes():
    data = wav_bytes(freq=440.0, sample_rate=16000, seconds=0.5)
    wave, rate = decode_audio_bytes(data, name="row7", sample_rate=None)
    assert rate == 16000 and wave.shape == (8000,)
    wave, rate = decode_audio_bytes(data, name="row7", sample_rate=22050)
    assert rate == 22050 and peak_frequency(wave, sample_rate=rate) == pytest.approx(440.0, abs=2.0)


def test_decode_audio_bytes_rejects_empty_and_garbage():
    with pytest.raises(AudiospecError, match=r"audio bytes for 'blues\.00001\.wav' are empty"):
        decode_audio_bytes(b"", name="blues.00001.wav", sample_rate=None)
    with pytest.raises(AudiospecError, match=r"could not decode 'row3'"):
        decode_audio_bytes(b"\x00\x01garbage" * 50, name="row3", sample_rate=None)
    with pytest.raises(AudiospecError, match=r"is truncated"):
        decode_audio_bytes(wav_bytes(sample_rate=8000)[:1000], name="row4", sample_rate=None)


def test_read_rejects_bad_sample_rate(tmp_path):
    path = write_tone(tmp_path / "a.wav")
    with pytest.raises(AudiospecError, match=r"sample_rate must be a positive integer \(Hz\) or None, got -1"):
        read_audio(path, sample_rate=-1)


# ---- write_wav validation --------------------------------------------------------------


def test_write_wav_rejects_nan_bad_shapes_clipping_and_subtypes(tmp_path):
    target = tmp_path / "out.wav"
    with pytest.raises(AudiospecError, match=r"contains 1 NaN/Inf"):
        write_wav(target, torch.tensor([0.0, float("nan")]), sample_rate=8000)
    with pytest.raises(AudiospecError, match=r"shape \[L\] or \[C, L\].*got \(2, 3, 4\)"):
        write_wav(target, torch.zeros(2, 3, 4), sample_rate=8000)
    with pytest.raises(AudiospecError, match=r"got \(0,\)"):
        write_wav(target, torch.zeros(0), sample_rate=8000)
    with pytest.raises(AudiospecError, match=r"not \[L, C\]: use waveform\.T"):
        write_wav(target, torch.zeros(8000, 2), sample_rate=8000)
    with pytest.raises(AudiospecError, match=r"peaks at 1\.5 > 1\.0 and would clip as PCM_16"):
        write_wav(target, torch.tensor([0.0, 1.5]), sample_rate=8000)
    with pytest.raises(AudiospecError, match=r"subtype must be one of .*got 'MP3'"):
        write_wav(target, torch.zeros(10), sample_rate=8000, subtype="MP3")
    with pytest.raises(AudiospecError, match=r"sample_rate must be a positive integer"):
        write_wav(target, torch.zeros(10), sample_rate=0)
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []  # no temp files left behind


def test_write_wav_is_atomic_on_failure(tmp_path, monkeypatch):
    target = write_wav(tmp_path / "keep.wav", torch.full((100,), 0.25), sample_rate=8000)

    def broken_write(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(sf, "write", broken_write)
    with pytest.raises(AudiospecError, match=r"could not write .*disk full.*unchanged"):
        write_wav(target, torch.zeros(100), sample_rate=8000)
    monkeypatch.undo()
    torch.testing.assert_close(read_audio(target)[0], torch.full((100,), 0.25), atol=1e-4, rtol=0)
    assert [p.name for p in tmp_path.iterdir()] == ["keep.wav"]
