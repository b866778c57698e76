"""plekzoeker.migrations."""
