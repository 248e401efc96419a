"""Tests of grokvid_nb.sandbox, driven with raw httpx."""
