"""The service's tests: one folder per feature, shared helpers in `tests.support`."""
