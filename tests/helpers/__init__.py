"""What the tests share: tiny models and inputs, model pairs across libraries and frameworks, data, corpora."""
