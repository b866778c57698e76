"""plekzoeker.outputs."""
