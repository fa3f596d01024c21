"""The AWS stand-in and the test bed (moto server, gaps, seeded organization, process stack)."""

import os

# Vigil never launches an instance, and moto's EC2 otherwise loads its catalogue of default AMIs
# for every account and region it touches: about a second of every sandbox's start.
os.environ.setdefault("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
