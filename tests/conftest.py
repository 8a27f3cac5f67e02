"""Test-wide set-up."""

import os
import tempfile

# Cellpose reads this when it is first imported: keep anything it would write out of
# the home folder. Set before any test module imports cellpose.
os.environ.setdefault("CELLPOSE_LOCAL_MODELS_PATH", tempfile.mkdtemp(prefix="cellpose-models-"))
os.environ.setdefault("DO_NOT_TRACK", "true")
