"""Which ray-cast backend traces and shades: the numpy reference or numba's compiled twin.

`load_jit` imports navenv.render.primitives_jit and shading_jit (numba) on first use, never at
`import navenv`, and checks them on warm-up frames; `auto` falls back to numpy when that fails.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import warnings

BACKENDS: tuple[str, ...] = ("auto", "numba", "numpy", "mujoco")
"""How primitives are traced (mj_multiRay always takes the rays near mesh/hfield/SDF geoms):
`numba`: the compiled tracer and shader (navenv.render.primitives_jit, shading_jit; an error
where numba is missing); `numpy`: the numpy tracer here and `shading.Shader` (the reference);
`auto`: numba where it imports and compiles, else numpy; `mujoco`: every ray through
mj_multiRay."""


def numba_installed() -> bool:
    """Whether numba can be imported (checked without importing it)."""
    return importlib.util.find_spec("numba") is not None


@functools.cache
def load_jit() -> tuple[tuple[type, type] | None, str]:
    """((compiled tracer class, compiled shader class), "") once numba imports and warm-up frames
    ran correctly, else (None, why).

    Runs once per process: the first call imports numba and compiles the kernels (seconds), or
    loads them from numba's on-disk cache (cache=True: well under a second); later calls are free.
    A numba that is installed but fails warns once, as `auto` then falls back to numpy.
    """
    if not numba_installed():
        return None, "numba is not installed (pip install numba)"
    try:
        tracer = importlib.import_module("navenv.render.primitives_jit")
        shader = importlib.import_module("navenv.render.shading_jit")
        tracer.warm_up()
        shader.warm_up()
    except Exception as exc:  # any numba failure means: use the numpy code
        why = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        warnings.warn(
            f"navenv.render: the numba backend failed to compile ({why}); using numpy instead",
            RuntimeWarning,
            stacklevel=2,
        )
        return None, why
    return (tracer.JitTracer, shader.JitShader), ""
