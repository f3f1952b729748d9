"""The numba set-up the kernels share: ``njit`` (a no-op decorator without numba, so the
kernels stay importable and the numpy paths run) and the options every kernel compiles with."""

from __future__ import annotations

try:  # pragma: no cover - exercised when numba is installed
    from numba import njit

    HAVE_NUMBA = True
except ImportError:  # pragma: no cover
    HAVE_NUMBA = False

    def njit(*args, **kwargs):  # type: ignore[no-redef]
        def wrap(fn):
            return fn

        return wrap


_KW = dict(cache=True, nogil=True, error_model="numpy")
