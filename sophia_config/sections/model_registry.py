"""``model_registry:``: how long the model registry keeps images and artifacts.

The section is the library's :class:`~constructs_lib.ai.model_registry_props.RegistryRetention`
(its fields, defaults, limits and the rule that noncurrent artifacts expire after they
reach Glacier), loaded as one and passed to ``ModelRegistryProps.retention`` as it is.
"""

from __future__ import annotations

from constructs_lib.ai.model_registry_props import RegistryRetention
from sophia_config.types import library_value

ModelRegistryConfig = library_value(RegistryRetention)
