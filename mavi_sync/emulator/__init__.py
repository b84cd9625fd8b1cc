"""A local stand-in for memories.ai (`mavi-sync emulator`): the documented endpoints,
their checks and answers, remote life cycles, and faults on demand."""
