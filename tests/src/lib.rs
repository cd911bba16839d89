//! Shared fixtures for the integration tests: models used by several test files.
