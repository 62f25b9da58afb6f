"""How much of a file the kernel's page cache holds, and reading it all in before a measurement.

On this VM the host takes back page cache from an idle guest: hours after a run, 1.1 GB of the
6 GB 1M-record database was still resident with 21 GB of memory free, and a file read whole lost
about 10 MB/s of it while idle. A cold-cursor page then read its rows from disk (8 ms a page in
process, against 1 ms with the file resident), and figures moved with whatever the host had left.

Since Linux 5.2, mincore(2) reports a file's page cache only to a caller that owns the file or may
write it (root, as the bench runs here); to another it reports only the pages mapped into the
caller itself, which for a fresh mapping is none.
"""

import ctypes
import ctypes.util
import mmap
import os
from pathlib import Path

LIBC = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
LIBC.mmap.restype = ctypes.c_void_p
INT = ctypes.c_int
LIBC.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, INT, INT, INT, ctypes.c_long]
LIBC.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
LIBC.mincore.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_ubyte)]
MAP_FAILED = ctypes.c_void_p(-1).value
CHUNK = 8 * 1024 * 1024


def resident_share(path: Path) -> float:
    """The share (0 to 1) of the file's pages in the page cache, by mincore(2); reads nothing."""
    size = path.stat().st_size
    if size == 0:
        return 1.0
    fd = os.open(path, os.O_RDONLY)
    try:
        address = LIBC.mmap(None, size, mmap.PROT_READ, mmap.MAP_SHARED, fd, 0)
        if address in (None, MAP_FAILED):
            raise OSError(ctypes.get_errno(), f"mmap of {path} failed")
        try:
            pages = (size + mmap.PAGESIZE - 1) // mmap.PAGESIZE
            vector = (ctypes.c_ubyte * pages)()
            if LIBC.mincore(address, size, vector) != 0:
                raise OSError(ctypes.get_errno(), f"mincore of {path} failed")
            return sum(byte & 1 for byte in bytes(vector)) / pages
        finally:
            LIBC.munmap(address, size)
    finally:
        os.close(fd)


def read_in(path: Path) -> None:
    """Read the whole file once, so that its pages are in the page cache (as `cat file > /dev/null`)."""
    with open(path, "rb", buffering=0) as file:
        while file.read(CHUNK):
            pass
