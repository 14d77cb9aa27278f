"""A local emulator of the Azure Resource Manager surface the reconciler uses (see README.md).

It imports nothing from the rest of `reconciler`: it emulates Azure, it does not know the reconciler.
"""

from .api import Sandbox
from .config import SandboxConfig

__all__ = ["Sandbox", "SandboxConfig"]
