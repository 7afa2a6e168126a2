"""The mount table of this process (/proc/self/mountinfo), or of another
mount namespace (/proc/PID/mountinfo)."""


def unescape(s):
    """A mountinfo field with its octal escapes (\\040 for a space) undone."""
    out, i = "", 0
    while i < len(s):
        if s[i] == "\\" and i + 3 < len(s) and s[i + 1:i + 4].isdigit():
            out += chr(int(s[i + 1:i + 4], 8))
            i += 4
        else:
            out += s[i]
            i += 1
    return out


def fields(path, table="/proc/self/mountinfo"):
    """The fields of the line whose mount point is path (str or Path), or
    None when nothing is mounted there.  Only the table is read: nothing
    stats the mount point, which may be hung in the test at hand."""
    path = str(path)
    with open(table, encoding="utf-8", errors="surrogateescape") as f:
        for line in f:
            parts = line.split()
            if len(parts) > 4 and unescape(parts[4]) == path:
                return parts
    return None
