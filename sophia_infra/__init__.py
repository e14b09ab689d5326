"""The commands: synthesis, review, deploy, validate, checks, adoption.

Every command imports this package first (``python -m sophia_infra.<command>``, and
``main.py``). Synthesis imports cdktf, which starts jsii's Node process; on Node 20 (what
these machines run) jsii then prints an end-of-life banner, which its Python side echoes
as ``b'!!...'`` lines into the command's output. (The other commands start no Node
process: the configuration model imports no cdktf.) A value the user set is kept.
"""

import os

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
