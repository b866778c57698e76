"""plekzoeker.scoring."""
