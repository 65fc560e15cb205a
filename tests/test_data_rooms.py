import numpy as np
import pytest

from s5bench.data_gen.rooms import RoomBank, SofaRoom, write_sofa_room
from s5bench.data_gen.synthetic_rooms import SPEED_OF_SOUND, foa_rirs

SR = 32000


def test_sofa_round_trip_and_spatialscaper_validation(tmp_path):
    rng = np.random.default_rng(0)
    irs = rng.standard_normal((3, 4, 200))
    pos = rng.uniform(-2, 2, (3, 3))
    path = write_sofa_room(tmp_path / "r.sofa", irs, pos, SR, room_dims=[5, 4, 3])
    room = SofaRoom(path)
    assert (room.n_positions, room.n_channels, room.n_taps, room.sr) == (3, 4, 200, SR)
    np.testing.assert_allclose(room.positions, pos)
    for m in range(3):
        np.testing.assert_array_equal(room.ir(m), irs[m])
    ps = pytest.importorskip("pysofaconventions")
    f = ps.SOFAFile(str(path), "r")
    assert f.isValid()  # what the SpatialScaper fork asserts before it reads a room
    assert f.getVariableValue("Data.IR").shape == (3, 4, 200)


@pytest.mark.parametrize("axis, channel", [(1, 1), (2, 2), (0, 3)])  # y -> Y (ACN 1), z -> Z (2), x -> X (3)
def test_foa_signs_direct_path(axis, channel):
    array = np.array([3.0, 2.5, 1.5])
    for sign in (+1, -1):
        src = array.copy()
        src[axis] += sign * 1.0
        ir = foa_rirs([6, 5, 3], array, src[None], rt60=0.3, sr=SR, n_taps=4000)[0]
        direct = int(round(1.0 / SPEED_OF_SOUND * SR))
        win = slice(direct - 2, direct + 3)
        w, d = ir[0, win], ir[channel, win]
        k = np.argmax(np.abs(w))
        assert np.sign(d[k]) == sign and d[k] == pytest.approx(sign * w[k], rel=1e-9)
        others = [c for c in (1, 2, 3) if c != channel]
        assert np.all(np.abs(ir[others][:, win]) < 1e-9 * np.abs(w).max())


def test_two_channel_room_is_refused(tmp_path):
    import sofar

    s = sofar.Sofa("GeneralFIR")
    s.Data_IR = np.zeros((2, 2, 64))
    s.Data_SamplingRate = SR
    s.SourcePosition = np.zeros((2, 3))
    s.Data_Delay = np.zeros((1, 2))
    for var in ("ReceiverDescriptions", "EmitterDescriptions"):
        if hasattr(s, var):
            s.delete(var)
    sofar.write_sofa(str(tmp_path / "stereo.sofa"), s)
    with pytest.raises(ValueError, match="stereo.sofa: 2 receiver channel"):
        RoomBank(tmp_path).room("stereo.sofa")


def test_empty_room_folder(tmp_path):
    with pytest.raises(ValueError, match="no .sofa files"):
        RoomBank(tmp_path)
    with pytest.raises(FileNotFoundError, match="room folder not found"):
        RoomBank(tmp_path / "missing")


def test_a_truncated_sofa_room_is_named_with_what_is_wrong(tmp_path):
    from pathlib import Path


    whole = (Path(__file__).parent / "golden" / "fork2025" / "inputs" / "room_ir" / "room_a.sofa").read_bytes()
    for cut in (len(whole) // 2, 2000):
        path = tmp_path / f"cut_{cut}.sofa"
        path.write_bytes(whole[:cut])
        with pytest.raises(ValueError, match=rf"cut_{cut}\.sofa: not a readable SOFA .* {cut} bytes and may be "
                                             "truncated"):
            room = SofaRoom(path)
            room.ir(room.n_positions - 1)
