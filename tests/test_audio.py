"""common/audio.py: an atomic audio write or group of writes that fails at the rename leaves no
temporary file (issue 41, row 12)."""
import errno
import os

import numpy as np
import pytest

from s5bench.common.audio import files_together, write_audio_atomic
from s5bench.common.errors import cli


def test_a_group_of_files_whose_rename_fails_leaves_no_temporary_file(tmp_path, capsys):
    """Row 12: a name over 255 bytes (a 2026 estimate of a long mixture name) fails at the rename,
    after the data were written under a short temporary name."""
    long_name = tmp_path / ("mix_" + "x" * 250 + "_0_Speech.wav")
    with pytest.raises(OSError) as caught:
        write_audio_atomic(long_name, np.zeros(100, np.float32), 32000)
    assert caught.value.errno == errno.ENAMETOOLONG and caught.value.filename == str(long_name)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(OSError):  # a group: the file already moved into place goes too
        with files_together() as group:
            group.audio(tmp_path / "mix_0_Speech.wav", np.zeros(100, np.float32), 32000)
            group.audio(long_name, np.zeros(100, np.float32), 32000)
    assert list(tmp_path.iterdir()) == []

    def run(argv):
        write_audio_atomic(long_name, np.zeros(100, np.float32), 32000)

    assert cli(run, []) == 2
    assert capsys.readouterr().err.startswith(f"error: {os.strerror(errno.ENAMETOOLONG)}: {long_name}")
