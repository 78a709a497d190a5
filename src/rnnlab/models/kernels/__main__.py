"""``python -m rnnlab.models.kernels``: build this machine's recurrent kernels now (``make install`` runs it).

Prints where the library is, or why it could not be built; exits 0 either way, because rnnlab
runs without the kernels (on Keras' own layers).
"""

import sys

from rnnlab.models.kernels.build import KernelBuildError, build

try:
    print(f"recurrent kernels: {build()}")
except KernelBuildError as err:
    print(f"recurrent kernels not built ({err}); rnnlab will use Keras' layers", file=sys.stderr)
