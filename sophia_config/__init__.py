"""The configuration model: ``config/*.yaml`` read, validated and typed once.

Layer: between the construct library and the stacks. It may import
``constructs_lib`` (for the library's value types and limits, from modules without
cdktf: ``constructs_lib/__init__.py``), never ``stacks`` or the commands. ``model`` holds the two files' top-level models; ``loader`` reads
them (``load()``); ``cross_checks`` and ``capacity_check`` the rules checked once every
file is parsed; ``sections/<area>.py`` one model per section of an environment file;
``types`` the shared field types.
"""

from sophia_config.loader import ENV_NAME_PATTERN, PROJECT_FILE, load
from sophia_config.model import (
    AppConfig,
    ConfigError,
    DeploymentPolicy,
    Environment,
    EnvironmentConfig,
    ProjectConfig,
)

__all__ = [
    "ENV_NAME_PATTERN",
    "PROJECT_FILE",
    "AppConfig",
    "ConfigError",
    "DeploymentPolicy",
    "Environment",
    "EnvironmentConfig",
    "ProjectConfig",
    "load",
]
