"""IREE backend: StableHLO text emission, compilation with a disk cache, and the runtime."""
