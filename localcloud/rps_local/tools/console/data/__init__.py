"""The console's per-page view models."""
