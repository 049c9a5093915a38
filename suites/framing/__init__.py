"""The framing suite: length-prefixed blocks (framing PROFILE.md)."""
