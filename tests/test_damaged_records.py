"""common/manifest.py and systems/run_folder.py: a record file that is binary, cut off or not a JSON
object is a named error (or a named problem), never a raw UnicodeDecodeError or AttributeError."""
import json
import shutil

import pytest

from s5bench.common.manifest import DatasetError, read_manifest, verify_dataset
from s5bench.systems.run_folder import IDENTITY, RunFolderError, check_identity

BINARY = bytes([0xFF, 0xFE, 0x00, 0x81]) * 8  # not UTF-8


@pytest.mark.parametrize("body", [BINARY, b'{"format": 1, "mixt', b"[1, 2]"])
def test_a_damaged_manifest_is_a_named_error(tmp_path, body):
    path = tmp_path / "manifest.json"
    path.write_bytes(body)
    with pytest.raises(DatasetError, match=str(path)):
        read_manifest(path)


@pytest.mark.parametrize("body", [BINARY, b"[1, 2]"])
def test_a_damaged_run_identity_is_a_named_error(tmp_path, body):
    (tmp_path / IDENTITY).write_bytes(body)
    with pytest.raises(RunFolderError, match="delete the run folder"):
        check_identity(tmp_path, {"system": "x"}, has_marks=False)


def test_a_mixtures_binary_or_listlike_metadata_is_a_named_problem(tiny_test_set, tmp_path):
    data = tmp_path / "set"
    shutil.copytree(tiny_test_set, data)  # the session's set is shared: damage a copy
    (data / "manifest.json").unlink()  # with a manifest, sizes and checksums tell damage first
    metadata = sorted((data / "metadata").glob("*.json"))
    metadata[0].write_bytes(BINARY)
    metadata[1].write_text(json.dumps([1, 2]))
    verdict = verify_dataset(data)
    text = "\n".join(verdict.problems)
    assert f"{metadata[0].stem}: metadata/{metadata[0].name} is not valid JSON" in text
    assert f"{metadata[1].stem}: metadata/{metadata[1].name} is not a mixture's metadata" in text
