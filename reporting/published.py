"""Published figures, never measured here: the paper's Table 1 and the DCASE 2025 and 2026 Task 4
leaderboards. The tables show them only in `published_*` columns or `kind = published` rows."""
from __future__ import annotations

# Paper Table 1 (dev test set), docs/task.md §5. Published, never measured here.
PUBLISHED_TABLE1 = {
    "fss1_cp1": (10.8, 15.1, 73.2),
    "fss1_cp1-1": (12.7, 15.1, 81.8),
    "fss2_cp1-1": (14.6, 18.3, 81.8),
    "fss2_cp2": (14.7, 18.3, 83.4),
    "fss3_cp3": (14.9, 18.4, 84.5),
}
# Paper Table 2 (DCASE 2025 Task 4 leaderboard): rank, team, eval CA-SDRi / Acc_mix, test CA-SDRi / Acc_mix.
PUBLISHED_TABLE2 = [
    (1, "KAIST (self-guided)", 11.00, 55.80, 14.94, 61.80),
    (2, "JKU", 9.77, 61.60, 15.04, 77.07),
    (3, "SUSTech", 9.73, 51.54, 14.00, 59.80),
    (4, "SJTU", 7.84, 47.72, 14.38, 73.93),
    (5, "rank 5", 7.55, 49.51, 13.31, 64.07),
    (6, "rank 6", 6.69, 47.22, 13.22, 76.53),
    (7, "rank 7", 6.60, 51.48, 11.12, 60.67),
    (8, "baseline ResUNetK", 6.60, 51.48, 11.09, 59.80),
    (9, "rank 9", 3.84, 22.41, 11.78, 65.47),
]
# DCASE 2026 Task 4 (docs/task.md §7): rank, team, eval CAPI-SDRi / Acc_mix, dev-test CAPI-SDRi / Acc_mix.
PUBLISHED_TABLE2_2026 = [
    (1, "Bando_AIST", 14.93, 65.54, 16.32, 64.88),
    (2, "Choi_KAIST", 12.98, 64.88, 14.65, 66.07),
    (3, "Saijo_Mitsubishi", 12.94, 76.92, 14.95, 78.11),
    (4, "Wang_SRCN", 10.13, 57.80, 11.74, 62.23),
    (5, "Park_SGU", 10.10, 53.17, 11.42, 56.09),
    (None, "baseline (1-channel M2D-AT + ResUNetK)", 6.77, 56.55, 8.171, 57.143),
    (None, "baseline (4-channel M2D-AT + ResUNetK)", None, None, 8.489, 60.714),
]

# the published leaderboard of each edition, by year
PUBLISHED_LEADERBOARDS = {2025: PUBLISHED_TABLE2, 2026: PUBLISHED_TABLE2_2026}
