"""Kept for compatibility: the tracker now lives in policies.tracking (import from there).

``from policies.tracker import Tracker, Reference, ...`` keeps working; every name is
policies.tracking's.
"""

from policies.tracking import *  # noqa: F403
from policies.tracking import __all__  # noqa: F401
