"""plekzoeker.pipelines."""
