#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Damages a vmm state file in one precise way, keeping every CRC right
unless the damage is the CRC (docs/snapshot.md, "The stream format").

  tamper.py FILE version     format version 2, header CRC fixed
  tamper.py FILE flipbyte    one payload byte of the middle section flipped
  tamper.py FILE cpuid       every bit of CPUID leaf 7.0 EBX/ECX set in the
                             vcpu-cpuid sections, section CRCs fixed: a host
                             lacking one of them must refuse
"""
import struct
import sys
import zlib

HDR = 52


def sections(b):
    off = HDR
    while off + 16 <= len(b):
        typ, ver, flags, ln, crc = struct.unpack_from("<IHHII", b, off)
        yield off, typ, ln
        if typ == 0:
            return
        off += 16 + ln


def fix_crc(b, off, ln):
    c = zlib.crc32(bytes(b[off:off + 12]))
    c = zlib.crc32(bytes(b[off + 16:off + 16 + ln]), c)
    struct.pack_into("<I", b, off + 12, c & 0xffffffff)


def main():
    path, mode = sys.argv[1], sys.argv[2]
    b = bytearray(open(path, "rb").read())
    if mode == "version":
        struct.pack_into("<I", b, 8, 2)
        struct.pack_into("<I", b, 48, zlib.crc32(bytes(b[:48])) & 0xffffffff)
    elif mode == "flipbyte":
        secs = [s for s in sections(b) if s[2] > 0]
        off, typ, ln = secs[len(secs) // 2]
        b[off + 16 + ln // 2] ^= 0x40
    elif mode == "cpuid":
        n = 0
        for off, typ, ln in sections(b):
            if typ != 0x0100:
                continue
            nent = struct.unpack_from("<I", b, off + 16 + 4)[0]
            for i in range(nent):
                e = off + 16 + 8 + 40 * i
                fn, idx = struct.unpack_from("<II", b, e)
                if fn == 7 and idx == 0:
                    struct.pack_into("<II", b, e + 16, 0xffffffff, 0xffffffff)
                    n += 1
            fix_crc(b, off, ln)
        if not n:
            sys.exit("no CPUID leaf 7 in " + path)
    else:
        sys.exit("unknown mode " + mode)
    open(path, "wb").write(b)


main()
