"""Deploy the app to a local AWS emulator (moto's server) through the cdktf CLI.

``make local-up`` / ``make local-down`` (:mod:`.local`) and ``make e2e``
(``tests/e2e``) share it: :mod:`.server` runs moto, :mod:`.session` runs the
pinned ``npx cdktf`` against it, :mod:`.moto_limits` lists every emulator-only
adjustment with the moto limitation it works around, and :mod:`.overrides`
turns those into override files in the run's own output directory.
"""
