"""The construct library: ``<domain>/<thing>.py``, one file per construct, named for what it builds.

Where the configuration model reads a construct's props or the values they are checked
against (allowed values, limits, defaults), they live beside it in ``<thing>_props.py``
(``eks_cluster_props.py`` beside ``eks_cluster.py``), and everyone imports them from
there. A props module imports no cdktf, constructs or provider binding (a construct type
in an annotation is imported under ``TYPE_CHECKING``): importing cdktf starts the jsii
runtime, Node.js and the libraries' assemblies (0.4-0.5 s of CPU), and a command must
report a typo in ``config/dev.yaml`` without waiting for it. Facts that belong to no
single construct have modules of their own on the same terms (``compute/instance_types.py``,
``storage/gp3.py``, ``ci/github.py``). ``tests/app/test_layers.py`` loads the configuration
in a fresh process and fails if jsii or cdktf was imported, naming who imported it.
"""
