"""What is shown: status and reports, and the metrics."""
