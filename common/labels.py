"""The task's constants: the 18 target classes of DCASE 2025/2026 Task 4 in one-hot index
order, the sample rate and the channel count of the mixtures."""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .errors import S5Error

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

LABELS: tuple[str, ...] = (
    "AlarmClock", "BicycleBell", "Blender", "Buzzer", "Clapping", "Cough",
    "CupboardOpenClose", "Dishes", "Doorbell", "FootSteps", "HairDryer",
    "MechanicalFans", "MusicalKeyboard", "Percussion", "Pour", "Speech",
    "Typing", "VacuumCleaner",
)
SILENCE = "silence"
SAMPLE_RATE = 32000  # Hz, every file of both editions
N_CHANNELS = 4  # first-order ambisonics, ACN W,Y,Z,X; channel 0 (W) is the reference
N_CLASSES = len(LABELS)
N_SLOTS = 3
LABEL_INDEX = {name: i for i, name in enumerate(LABELS)}


def check_label(label: str, where: str = "") -> str:
    """Return `label` if it is a target class or `silence`, else raise naming `where`.

    Args:
        label: a class name, or "silence".
        where: the file or place it comes from, for the message ("" names none).

    Returns:
        `label`, unchanged.

    Raises:
        S5Error: it is neither one of `LABELS` nor `SILENCE`.
    """
    if label == SILENCE or label in LABEL_INDEX:
        return label
    origin = f" in {where}" if where else ""
    raise S5Error(f"unknown label {label!r}{origin}; known labels: {', '.join(LABELS)} and {SILENCE!r}")


def one_hot(labels: Sequence[str], dtype: npt.DTypeLike | None = None) -> np.ndarray[Any, Any]:
    """(len(labels), 18) one-hot matrix as numpy; `silence` is an all-zero row.

    Args:
        labels: one class name (or "silence") per row.
        dtype: the matrix's dtype (None: float32).

    Returns:
        Shape (len(labels), N_CLASSES): 1 in the column of each row's class (`LABEL_INDEX`), 0 elsewhere.

    Raises:
        S5Error: a label is unknown.
    """
    import numpy as np

    out = np.zeros((len(labels), N_CLASSES), dtype=dtype or np.float32)
    for i, lab in enumerate(labels):
        if check_label(lab) != SILENCE:
            out[i, LABEL_INDEX[lab]] = 1.0
    return out
