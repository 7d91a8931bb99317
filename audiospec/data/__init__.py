"""Audio I/O and datasets: GTZAN (archive, folder or hub), any audio folder, the corpora cut from Debian packages.

Shape convention: a mono waveform is ``[L]``, multichannel ``[C, L]``, a corpus ``[N, L]``.

Typical use::

    from audiospec.data import DataConfig, load_corpus

    corpus = load_corpus(DataConfig(dataset="mini"))        # prepares data/mini if needed
    corpus.waveforms  # [N, L] float32 at corpus.sample_rate
"""

from audiospec.data.archive import extract_tar
from audiospec.data.audio import (
    AUDIO_EXTENSIONS,
    AudioInfo,
    audio_info,
    decode_audio_bytes,
    read_audio,
    resample,
    write_wav,
)
from audiospec.data.config import DATASET_NAMES, FOLDER_PREFIX, LOG_MEL_PREFIX, DataConfig, DatasetName
from audiospec.data.corpus import Corpus, SkippedFile
from audiospec.data.debian import DEBIAN_PACKAGES, prepare_debian
from audiospec.data.download import download_file, sha256_of
from audiospec.data.folder import UNLABELLED, LabelledFile, list_audio_files
from audiospec.data.gtzan import (
    GTZAN_GENRES_SHA256,
    GTZAN_GENRES_URL,
    GTZAN_MUSIC_SPEECH_SHA256,
    GTZAN_MUSIC_SPEECH_SIZE,
    GTZAN_MUSIC_SPEECH_URL,
)
from audiospec.data.loading import export_log_mel, load_corpus
from audiospec.data.melcache import read_log_mel_cache, write_log_mel_cache
from audiospec.data.mini import MINI_PACKAGES, prepare_mini
from audiospec.data.packages import DebianPackage, install_command
from audiospec.data.patches import PatchSet, check_sample_rate, corpus_patches, cut_patches, mel_patches
from audiospec.data.prepare import prepare_dataset
from audiospec.data.segment import segment
from audiospec.data.split import SPLIT_NAMES, SplitName, check_disjoint, source_groups, split_corpus

__all__ = [
    "SPLIT_NAMES",
    "SplitName",
    "check_disjoint",
    "source_groups",
    "split_corpus",
    "AUDIO_EXTENSIONS",
    "DATASET_NAMES",
    "DEBIAN_PACKAGES",
    "FOLDER_PREFIX",
    "LOG_MEL_PREFIX",
    "GTZAN_GENRES_SHA256",
    "GTZAN_GENRES_URL",
    "GTZAN_MUSIC_SPEECH_SHA256",
    "GTZAN_MUSIC_SPEECH_SIZE",
    "GTZAN_MUSIC_SPEECH_URL",
    "MINI_PACKAGES",
    "UNLABELLED",
    "AudioInfo",
    "DebianPackage",
    "Corpus",
    "PatchSet",
    "DataConfig",
    "DatasetName",
    "LabelledFile",
    "SkippedFile",
    "audio_info",
    "check_sample_rate",
    "corpus_patches",
    "cut_patches",
    "decode_audio_bytes",
    "download_file",
    "export_log_mel",
    "extract_tar",
    "install_command",
    "list_audio_files",
    "mel_patches",
    "load_corpus",
    "prepare_dataset",
    "prepare_debian",
    "prepare_mini",
    "read_audio",
    "read_log_mel_cache",
    "resample",
    "segment",
    "sha256_of",
    "write_log_mel_cache",
    "write_wav",
]
