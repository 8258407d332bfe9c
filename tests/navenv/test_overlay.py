"""navenv.render.overlay (projection, ghost drawing) and navenv.video.Mp4Stream."""

import math

import mujoco
import numpy as np
import pytest

from navenv.render.overlay import GHOST_RGB, draw_ghost, draw_segments, project
from navenv.video import Mp4Stream

CAMERA_XML = """
<mujoco>
  <worldbody>
    <camera name="cam" pos="0 -3 1" xyaxes="1 0 0 0 0 1" fovy="60"/>
    <geom type="plane" size="5 5 0.1"/>
  </worldbody>
</mujoco>
"""


def _camera():
    model = mujoco.MjModel.from_xml_string(CAMERA_XML)
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    return model, data


def test_projection_follows_the_pinhole_of_the_model_camera():
    model, data = _camera()  # at (0, -3, 1) looking along +y, image up is +z
    w, h = 320, 240
    half = math.tan(math.radians(30))  # fovy 60: the top edge is 30 degrees up
    points = np.array(
        [[0, 0, 1], [0, 0, 1 + 3 * half], [3 * half * w / h, 0, 1], [0, -4, 1], [0.5, 1, 1.5]]
    )
    px, front = project(model, data, "cam", w, h, points)
    np.testing.assert_allclose(px[0], [w / 2, h / 2])  # on the axis: the image centre
    np.testing.assert_allclose(px[1], [w / 2, 0], atol=1e-9)  # the top edge
    np.testing.assert_allclose(px[2], [w, h / 2], atol=1e-9)  # the right edge (square pixels)
    assert front.tolist() == [True, True, True, False, True]  # (0, -4, 1) is behind it
    focal = 0.5 * h / half
    np.testing.assert_allclose(px[4], [w / 2 + focal * 0.5 / 4, h / 2 - focal * 0.5 / 4])
    with pytest.raises(ValueError, match="model camera"):
        project(model, data, None, w, h, points)


def test_ghost_is_drawn_where_the_joints_project_and_nowhere_else():
    model, data = _camera()
    image = np.zeros((240, 320, 3), np.uint8)
    joints = np.zeros((24, 3))
    joints[:, 2] = 1.0  # every joint on the axis but the left hip, 0.3 m right of it
    joints[1] = [0.3, 0.0, 1.0]  # left hip: parent is the pelvis (joint 0)
    out = draw_ghost(image, model, data, "cam", joints)
    drawn = np.argwhere(out.any(axis=-1))  # (row, col) of coloured pixels
    px, _ = project(model, data, "cam", 320, 240, joints[[0, 1]])
    assert len(drawn) > 0
    assert drawn[:, 1].min() >= px[0, 0] - 3 and drawn[:, 1].max() <= px[1, 0] + 3  # the bone
    assert np.abs(drawn[:, 0] - 120).max() <= 3  # one row band: a horizontal bone
    colour = out[tuple(drawn[len(drawn) // 2])]
    assert np.allclose(colour, 0.55 * np.array(GHOST_RGB), atol=1)  # blended over black
    assert not image.any()  # the input is left alone
    with pytest.raises(ValueError, match="24, 3"):
        draw_ghost(image, model, data, "cam", joints[:5])
    # a segment wholly off the image, or with NaN ends, draws nothing
    off = draw_segments(image, np.array([[[-50.0, -50.0], [-10.0, -20.0]], [[np.nan, 0], [1, 1]]]))
    assert np.array_equal(off, image)


def test_mp4_stream_writes_frames_as_they_come_and_abort_leaves_nothing(tmp_path):
    import imageio.v3 as iio

    frames = [np.full((48, 64, 3), 20 * i, np.uint8) for i in range(6)]
    with Mp4Stream(tmp_path / "a.mp4", fps=15) as stream:
        for f in frames:
            stream.append(f)
    video = iio.imread(tmp_path / "a.mp4")
    assert video.shape == (6, 48, 64, 3)
    assert abs(int(video[5].mean()) - 100) <= 3
    with pytest.raises(RuntimeError, match="boom"):
        with Mp4Stream(tmp_path / "b.mp4", fps=15) as stream:
            stream.append(frames[0])
            raise RuntimeError("boom")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.mp4"]  # no file, no temp left
    # a frame of another size stops the writer: the next append or close says so
    stream = Mp4Stream(tmp_path / "c.mp4", fps=15)
    stream.append(frames[0])
    stream.append(np.zeros((10, 10, 3), np.uint8))
    with pytest.raises(Exception):  # noqa: B017 (imageio's error type varies by backend)
        for _ in range(100):
            stream.append(frames[0])
        stream.close()
    assert not (tmp_path / "c.mp4").exists()
