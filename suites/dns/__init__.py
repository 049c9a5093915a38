"""The dns suite: an authoritative name server and a mail exchanger lookup."""
