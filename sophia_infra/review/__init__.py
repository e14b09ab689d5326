"""Review a change by comparing two synthesized ``cdktf.out/`` directories.

One concept per module, each importing only those above it in this list:

* ``aws_facts``: what the review knows about AWS resource types (stateful types,
  attributes that force a new resource, protection and encryption flags).
* ``loader``: reading a synthesized output (stacks, ``manifest.json`` graph).
* ``model``: the review's data (attribute and resource changes, stack reviews, risks).
* ``diff``: structural attribute diff, force-new lookup, the diff of one stack.
* ``iam``: IAM policy statements and why a policy grants more.
* ``risks``: the risk rules.
* ``waves``: deploy waves and the Mermaid stack graph.
* ``comparison``: ``compare(base, head)``, the whole review.
* ``render``: Markdown and JSON.
* ``cli``: ``python -m sophia_infra.review`` and the git worktree synthesis of a base ref.

``deploy`` reads outputs with ``loader``, orders stacks with ``waves`` and selects the
stacks changed since the last deployment with ``comparison`` (the same list the
review showed). Importing the package imports none of its modules.
"""
