"""plekzoeker.versions."""
