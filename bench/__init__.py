"""`make bench`: figures that matter to a small box next to an NVR, each against a
reference measured in the same run (see bench/__main__.py)."""
