"""The GridGov project and grid core.

`untrusted` is imported first, before Django or any GDAL library loads: it sets the GDAL
environment that keeps uploads from reaching outside themselves (see gridgov/untrusted.py).
"""

from . import untrusted  # noqa: F401  (imported for its effect on the environment)
