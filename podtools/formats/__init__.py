"""Transcript file formats: writers (captions, text) and, later, importers."""
