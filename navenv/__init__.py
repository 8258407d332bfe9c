"""navenv: embodied SMPL humanoids in real places, as Gymnasium environments."""

__version__ = "0.1.0"
