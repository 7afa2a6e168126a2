"""Reading the files of a mount, the way the tests look at them."""

import os

import sample_data as sd


def read(path):
    """The whole file, as bytes."""
    with open(path, "rb") as f:
        return f.read()


def errno_of(fn, *args):
    """The errno fn(*args) fails with, 0 if it succeeds."""
    try:
        fn(*args)
    except OSError as e:
        return e.errno
    return 0


def read_errno(path):
    """The errno a whole read of path fails with, 0 if it succeeds."""
    return errno_of(read, path)


def transcript(mnt, name=sd.ALES_DIR):
    """The transcript.txt of conversation directory name under the mount
    (a Mount, or anything with a .path)."""
    return os.path.join(mnt.path, name, "transcript.txt")
