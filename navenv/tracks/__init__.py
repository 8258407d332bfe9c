"""Real pedestrian tracks in the ETH/UCY format, the forecasting protocol, and a room adapter.

Format: text rows `frame ped_id x y` separated by any whitespace, metres on the ground plane;
frame and id may be written as floats but are whole numbers; blank and `#` lines are skipped.
10 frames are one step of 0.4 s (2.5 Hz); the step is detected per file. A pedestrian whose frames
jump by more than one step is split into contiguous segments (`Track`s with the same ped_id).
Bad files raise `TrackFormatError` naming the file and line.

Protocol: observe OBS_LEN = 8 steps (3.2 s), predict PRED_LEN = 12 (4.8 s), windows with stride 1
over each segment of each scene file, the other pedestrians of the observed frames as context
(`windows`); train on every scene but one and test on that one (`leave_one_scene_out`, with the
standard grouping `SCENE_GROUPS`: univ = students001 + students003, zara1, zara2, eth, hotel).
`constant_velocity` is the standard baseline. `flat_room_for` / `agents_in_room` put a file's
tracks into a flat `scenes.Scene` room centred at the origin.
"""

from navenv.tracks.adapter import agents_in_room, flat_room_for
from navenv.tracks.baselines import constant_velocity
from navenv.tracks.io import (
    FPS,
    FRAME_STEP,
    Track,
    TrackFile,
    TrackFormatError,
    load_track_dir,
    load_tracks,
)
from navenv.tracks.windows import (
    MAX_NEIGHBOURS,
    OBS_LEN,
    PRED_LEN,
    SCENE_GROUPS,
    Fold,
    Window,
    count_windows,
    group_scenes,
    leave_one_scene_out,
    scene_group,
    windows,
)

__all__ = [
    "FPS",
    "FRAME_STEP",
    "MAX_NEIGHBOURS",
    "OBS_LEN",
    "PRED_LEN",
    "SCENE_GROUPS",
    "Fold",
    "Track",
    "TrackFile",
    "TrackFormatError",
    "Window",
    "agents_in_room",
    "constant_velocity",
    "count_windows",
    "flat_room_for",
    "group_scenes",
    "leave_one_scene_out",
    "load_track_dir",
    "load_tracks",
    "scene_group",
    "windows",
]
