"""The upload engine: the queue, the workers and the drain, and what every worker waits on."""
