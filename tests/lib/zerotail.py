"""The one way a read through Linux's page cache can still show bytes that
a later read shows otherwise, and that linkupfs cannot prevent: the kernel
keeps the page that held a file's end zero-filled past that end; when the
file grows, linkupfs gives the kernel the new bytes (notify_store) before
the new size can be read, but the kernel sets the size before it rewrites
the page, and a reader that already holds that page and reads the size in
between copies the zeros (fs/fuse/inval.c, README "Limitations").

zero_tail(got, want, off) tells that signature apart from every other
difference: the bytes differ only where `got` has NUL bytes, all in one
page, running to that page's end (or to the end of what was read)."""

PAGE = 4096


def zero_tail(got, want, off):
    """Whether got (read at off) differs from want (the file's bytes at
    off) only by a kernel zero tail."""
    if len(got) > len(want):
        return False
    bad = [i for i in range(len(got)) if got[i] != want[i]]
    if not bad or any(got[i] != 0 for i in bad):
        return False
    first, last = bad[0], bad[-1]
    page_end = (off + first) // PAGE * PAGE + PAGE - off
    if last >= page_end:
        return False        # more than one page
    # NULs from the first difference to the page end, or to the end read
    return all(b == 0 for b in got[first:min(page_end, len(got))])
