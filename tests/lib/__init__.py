"""Helpers shared by the functional tests (tests/*.py) and bench/run.py:
plain standard-library modules, no pytest.  tests/ is on sys.path (pytest
puts it there for conftest.py; bench/run.py adds it), so `from lib import
fsread, statfile, mountinfo`.

  fsread     reading a mount's files: read, errno_of, read_errno, transcript
  statfile   the mount's .stats file as a dict
  mountinfo  the line of /proc/self/mountinfo for a mount point
"""
