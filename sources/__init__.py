"""plekzoeker.sources."""
