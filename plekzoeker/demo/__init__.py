"""plekzoeker.demo."""
