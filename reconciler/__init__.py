"""Declarative reconciler for the Azure Virtual Desktop image lifecycle."""

__version__ = "0.1.0"
