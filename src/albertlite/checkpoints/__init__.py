"""Checkpoint files: Hub resolution, safetensors state dicts, legacy formats and the authors' release."""
