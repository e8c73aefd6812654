"""Operations: readiness, Prometheus metrics and structured logs (no gradio here)."""
