"""DepthGauge: contacts, and bones right through a panel (which MuJoCo's contacts report as a graze)."""

import mujoco
import numpy as np
import pytest

from navenv.ik import deepest_penetration as penetration
from navenv.sinking import DepthGauge, SceneRays

PANEL = '<geom name="panel" type="box" size="1 0.05 1" pos="0 0 1"/>'  # y in [-0.05, 0.05]
BOX = '<geom name="box" type="box" size="0.2 0.2 0.2" pos="0 0.25 1"/>'  # y in [0.05, 0.45]


def _leg(scene_xml: str) -> mujoco.MjModel:
    """A free two-bone leg (thigh, shin, foot: 0.4 m bones along -y) in front of `scene_xml`."""
    return mujoco.MjModel.from_xml_string(
        f"""<mujoco><worldbody>{scene_xml}
        <body name="thigh" pos="0 0.6 1"><freejoint/>
          <geom type="capsule" fromto="0 0 0 0 -0.4 0" size="0.05"/>
          <body name="shin" pos="0 -0.4 0">
            <geom type="capsule" fromto="0 0 0 0 -0.4 0" size="0.05"/>
            <body name="foot" pos="0 -0.4 0">
              <geom type="sphere" size="0.03"/>
            </body>
          </body>
        </body></worldbody></mujoco>"""
    )


def _posed(model: mujoco.MjModel, thigh_y: float, x: float = 0.0) -> mujoco.MjData:
    data = mujoco.MjData(model)
    data.qpos[:3] = [x, thigh_y, 1.0]
    mujoco.mj_kinematics(model, data)
    return data


def _gauge(scene_xml: str) -> tuple[mujoco.MjModel, DepthGauge]:
    model = _leg(scene_xml)
    own = model.geom_bodyid > 0
    scene = mujoco.MjModel.from_xml_string(f"<mujoco><worldbody>{scene_xml}</worldbody></mujoco>")
    return model, DepthGauge(model, own, SceneRays(scene))


def test_bones_are_parent_child_pairs_of_the_body():
    model, gauge = _gauge(PANEL)
    names = {
        tuple(mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_BODY, b) for b in bone)
        for bone in gauge.bones
    }
    assert names == {("thigh", "shin"), ("shin", "foot")}


def test_a_bone_right_through_a_panel_counts_where_contacts_miss_it():
    model, gauge = _gauge(PANEL)
    # thigh joint at y = 0.25, knee at y = -0.15: the thigh bone enters the panel's front face
    # and leaves its back face, the knee 10 cm behind the wall
    data = _posed(model, 0.25)
    stretch = gauge.pierce(data)
    assert stretch == pytest.approx(0.1, abs=1e-6)  # the panel's thickness
    assert gauge(data) == pytest.approx(0.1, abs=1e-6)
    # without the scene's rays only contacts count: far less than the 10 cm the knee is through
    contacts_only = DepthGauge(model, gauge.own)
    assert contacts_only(data) == pytest.approx(penetration(model, data, gauge.own))
    assert contacts_only(data) < stretch


def test_clear_and_one_end_inside_are_left_to_the_contacts():
    model, gauge = _gauge(PANEL)
    assert gauge.pierce(_posed(model, 0.9)) == 0.0  # foot at y = 0.1: in front, clear
    # foot joint inside the panel (y = 0): one face crossed, from both ends the same point
    inside = _posed(model, 0.8)
    assert gauge.pierce(inside) == 0.0
    assert penetration(model, inside, gauge.own) > 0.0
    assert gauge(inside) == pytest.approx(penetration(model, inside, gauge.own))


def test_cutting_a_box_corner_is_not_a_pierce():
    model, gauge = _gauge(BOX)
    # the thigh turned 30 degrees about z from (0.05, 0.6): its bone enters the box's front face
    # (y = 0.45, at x = 0.14) and leaves by its side face (x = 0.2, at y = 0.34), at right angles
    data = mujoco.MjData(model)
    data.qpos[:3] = [0.05, 0.6, 1.0]
    mujoco.mju_axisAngle2Quat(data.qpos[3:7], np.array([0.0, 0.0, 1.0]), np.deg2rad(30))
    mujoco.mj_kinematics(model, data)
    assert penetration(model, data, gauge.own) > 0.02  # the capsule is well into the box
    assert gauge.pierce(data) == 0.0  # and the contacts measure it
    assert gauge(data) == pytest.approx(penetration(model, data, gauge.own))
