"""Model export for other runtimes: :mod:`.onnx` (the PyTorch models, for onnxruntime) and :mod:`.saved_model`
(the TensorFlow models, for TF Serving). Each submodule imports its framework; this package imports none."""
